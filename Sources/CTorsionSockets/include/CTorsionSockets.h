// accept4(2) for TorsionPosix: Glibc's Swift module is built without
// _GNU_SOURCE, so <sys/socket.h> does not declare it there. The prototype
// is the one in the glibc manual (since glibc 2.10, Linux 2.6.28).
#ifndef C_TORSION_SOCKETS_H
#define C_TORSION_SOCKETS_H

#include <sys/socket.h>

extern int accept4(int sockfd, struct sockaddr *addr, socklen_t *addrlen, int flags);

#endif
