// libevent 2.1's core event loop (Debian libevent-dev): event_base,
// event_config and raw events only. Torsion uses libevent as a poller, so
// neither bufferevents nor evdns/evhttp are imported.
#ifndef C_LIBEVENT_SHIM_H
#define C_LIBEVENT_SHIM_H

// The system headers libevent uses come first: <event2/event-config.h>
// defines _GNU_SOURCE, and glibc headers first seen under it declare
// fd_set with other member names than the ones Swift's Glibc module
// already has, which clang rejects as a conflicting definition.
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <time.h>

#include <event2/event.h>

#endif
