// Linux declarations that Glibc's Swift module does not export: epoll,
// eventfd and signalfd, and accept4(2), which <sys/socket.h> declares only
// under _GNU_SOURCE (Glibc's module is built without it; the prototype is
// the glibc manual's, since glibc 2.10 and Linux 2.6.28). TorsionPosix
// imports this module for their declarations. sched_setaffinity(2) is
// likewise _GNU_SOURCE-only (prototype from glibc's <sched.h>, since glibc
// 2.3.4); TorsionBench pins servers and its load generator with it.
#ifndef C_TORSION_POSIX_H
#define C_TORSION_POSIX_H

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sched.h>

extern int accept4(int sockfd, struct sockaddr *addr, socklen_t *addrlen, int flags);
extern int sched_setaffinity(pid_t pid, size_t cpusetsize, const cpu_set_t *mask);

#endif
