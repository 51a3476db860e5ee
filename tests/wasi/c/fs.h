// File-system helpers for the C test programs: rights sets, preopen lookup, whole reads.
#ifndef WASI_TESTS_FS_H
#define WASI_TESTS_FS_H

#include "check.h"

#define RIGHTS_FILE                                                                        \
    (__WASI_RIGHTS_FD_DATASYNC | __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_SEEK |           \
     __WASI_RIGHTS_FD_FDSTAT_SET_FLAGS | __WASI_RIGHTS_FD_SYNC | __WASI_RIGHTS_FD_TELL |    \
     __WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_ADVISE | __WASI_RIGHTS_FD_ALLOCATE |         \
     __WASI_RIGHTS_FD_FILESTAT_GET | __WASI_RIGHTS_FD_FILESTAT_SET_SIZE |                   \
     __WASI_RIGHTS_FD_FILESTAT_SET_TIMES | __WASI_RIGHTS_POLL_FD_READWRITE)
#define RIGHTS_FILE_READ                                                                   \
    (__WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_SEEK | __WASI_RIGHTS_FD_TELL |               \
     __WASI_RIGHTS_FD_FILESTAT_GET)
#define RIGHTS_DIR                                                                         \
    (__WASI_RIGHTS_FD_SYNC | __WASI_RIGHTS_FD_FDSTAT_SET_FLAGS |                           \
     __WASI_RIGHTS_PATH_CREATE_DIRECTORY | __WASI_RIGHTS_PATH_CREATE_FILE |                \
     __WASI_RIGHTS_PATH_LINK_SOURCE | __WASI_RIGHTS_PATH_LINK_TARGET |                     \
     __WASI_RIGHTS_PATH_OPEN | __WASI_RIGHTS_FD_READDIR | __WASI_RIGHTS_PATH_READLINK |    \
     __WASI_RIGHTS_PATH_RENAME_SOURCE | __WASI_RIGHTS_PATH_RENAME_TARGET |                 \
     __WASI_RIGHTS_PATH_FILESTAT_GET | __WASI_RIGHTS_PATH_FILESTAT_SET_SIZE |              \
     __WASI_RIGHTS_PATH_FILESTAT_SET_TIMES | __WASI_RIGHTS_FD_FILESTAT_GET |               \
     __WASI_RIGHTS_FD_FILESTAT_SET_TIMES | __WASI_RIGHTS_PATH_SYMLINK |                    \
     __WASI_RIGHTS_PATH_REMOVE_DIRECTORY | __WASI_RIGHTS_PATH_UNLINK_FILE)

// The preopened directory the runner mounts the fixture copy at.
#define SANDBOX "/sandbox"

// Finds the preopen named `name` by probing upward from fd 3 until EBADF, as wasi-libc does.
static inline __wasi_fd_t find_preopen(const char *name) {
    for (__wasi_fd_t fd = 3;; fd++) {
        __wasi_prestat_t prestat;
        __wasi_errno_t err = __wasi_fd_prestat_get(fd, &prestat);
        if (err == __WASI_ERRNO_BADF) break;
        if (err != __WASI_ERRNO_SUCCESS || prestat.tag != __WASI_PREOPENTYPE_DIR) continue;
        char found[256];
        size_t len = prestat.u.dir.pr_name_len;
        if (len >= sizeof found) continue;
        if (__wasi_fd_prestat_dir_name(fd, (uint8_t *)found, len) != __WASI_ERRNO_SUCCESS)
            continue;
        if (len == strlen(name) && memcmp(found, name, len) == 0) return fd;
    }
    fprintf(stderr, "no preopened directory %s: run with --dir HOST::%s\n", name, name);
    exit(2);
}

static inline __wasi_errno_t open_at(__wasi_fd_t dir, __wasi_lookupflags_t lookup, const char *path,
                              __wasi_oflags_t oflags, __wasi_rights_t rights,
                              __wasi_fdflags_t fdflags, __wasi_fd_t *fd) {
    return __wasi_path_open(dir, lookup, path, oflags, rights, RIGHTS_FILE | RIGHTS_DIR,
                            fdflags, fd);
}

static inline __wasi_errno_t open_file(__wasi_fd_t dir, const char *path, __wasi_oflags_t oflags,
                                __wasi_fd_t *fd) {
    return open_at(dir, 0, path, oflags, RIGHTS_FILE, 0, fd);
}

static inline __wasi_errno_t open_dir(__wasi_fd_t dir, const char *path, __wasi_fd_t *fd) {
    return open_at(dir, 0, path, __WASI_OFLAGS_DIRECTORY, RIGHTS_DIR, 0, fd);
}

static inline __wasi_errno_t write_str(__wasi_fd_t fd, const char *s, __wasi_size_t *written) {
    __wasi_ciovec_t iov = {(const uint8_t *)s, strlen(s)};
    return __wasi_fd_write(fd, &iov, 1, written);
}

// fd_write may write less than the iovecs hold (wasmtime writes only the first one per call,
// as POSIX allows); a correct program carries on from where it stopped. Returns the first
// call's errno or count in *first, so the caller can check that call on its own too.
static inline __wasi_errno_t write_fully(__wasi_fd_t fd, const __wasi_ciovec_t *iovs, size_t count,
                                  __wasi_size_t *first, __wasi_size_t *total) {
    __wasi_ciovec_t rest[8];
    if (count > 8) return __WASI_ERRNO_INVAL;
    memcpy(rest, iovs, count * sizeof *iovs);
    size_t i = 0;
    *total = 0;
    for (int call = 0; i < count; call++) {
        __wasi_size_t n;
        __wasi_errno_t err = __wasi_fd_write(fd, rest + i, count - i, &n);
        if (call == 0) *first = n;
        if (err != __WASI_ERRNO_SUCCESS) return err;
        if (n == 0) return __WASI_ERRNO_IO;  // no progress on a regular file
        *total += n;
        while (i < count && n >= rest[i].buf_len) n -= rest[i++].buf_len;
        if (i < count) {
            rest[i].buf += n;
            rest[i].buf_len -= n;
        }
    }
    return __WASI_ERRNO_SUCCESS;
}

// The reading counterpart: fills the iovecs in order until they are full or end of file.
static inline __wasi_errno_t read_fully(__wasi_fd_t fd, const __wasi_iovec_t *iovs, size_t count,
                                 __wasi_size_t *first, __wasi_size_t *total) {
    __wasi_iovec_t rest[8];
    if (count > 8) return __WASI_ERRNO_INVAL;
    memcpy(rest, iovs, count * sizeof *iovs);
    size_t i = 0;
    *total = 0;
    for (int call = 0; i < count; call++) {
        __wasi_size_t n;
        __wasi_errno_t err = __wasi_fd_read(fd, rest + i, count - i, &n);
        if (call == 0) *first = n;
        if (err != __WASI_ERRNO_SUCCESS) return err;
        if (n == 0) break;  // end of file
        *total += n;
        while (i < count && n >= rest[i].buf_len) n -= rest[i++].buf_len;
        if (i < count) {
            rest[i].buf += n;
            rest[i].buf_len -= n;
        }
    }
    return __WASI_ERRNO_SUCCESS;
}

// Reads up to `cap` bytes at `offset` without moving the fd's offset.
static inline __wasi_errno_t pread_all(__wasi_fd_t fd, char *buf, size_t cap, uint64_t offset,
                                __wasi_size_t *got) {
    *got = 0;
    while (*got < cap) {
        __wasi_iovec_t iov = {(uint8_t *)buf + *got, cap - *got};
        __wasi_size_t n;
        __wasi_errno_t err = __wasi_fd_pread(fd, &iov, 1, offset + *got, &n);
        if (err != __WASI_ERRNO_SUCCESS) return err;
        if (n == 0) break;
        *got += n;
    }
    return __WASI_ERRNO_SUCCESS;
}

#endif
