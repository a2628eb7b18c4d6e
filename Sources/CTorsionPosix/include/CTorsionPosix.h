// Linux headers that Glibc's Swift module does not export: epoll, eventfd
// and signalfd. TorsionPosix imports this module for their declarations.
#ifndef C_TORSION_POSIX_H
#define C_TORSION_POSIX_H

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <signal.h>

#endif
