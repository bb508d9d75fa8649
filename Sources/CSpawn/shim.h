#ifndef ICESTAT_CSPAWN_SHIM_H
#define ICESTAT_CSPAWN_SHIM_H
#include <spawn.h>

// glibc 2.34+ declares this only under _GNU_SOURCE, which Swift's Glibc module is built without.
extern int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);

// Closes every descriptor from `from` up in the child: this process's sockets are not all close-on-exec.
static inline int icestat_spawn_close_from(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}
#endif
