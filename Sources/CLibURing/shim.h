// liburing's API, static inline helpers included, for Swift.
//
// liburing.h defines _GNU_SOURCE and _XOPEN_SOURCE before its own system
// includes; the libc headers are included here first, without them, so
// that they come from the Glibc module Swift already has instead of being
// parsed a second time with other feature macros (which clang rejects as a
// conflicting definition of fd_set).
#ifndef C_LIB_URING_SHIM_H
#define C_LIB_URING_SHIM_H
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <liburing.h>
#endif
