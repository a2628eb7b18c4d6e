// liburing for Swift: the static inline helpers (io_uring_prep_*,
// io_uring_cq_advance, io_uring_opcode_supported) import as functions.
//
// liburing.h defines _GNU_SOURCE and _XOPEN_SOURCE before including the
// C library's headers; were it the first to include them, this module
// would get its own definitions of their types, which clash with Glibc's
// module. Including them first, without those macros, makes liburing.h
// reuse Glibc's (it needs nothing the macros add on glibc).
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/select.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <inttypes.h>
#include <time.h>
#include <fcntl.h>
#include <sched.h>
#include <poll.h>
#include <liburing.h>
