// The preopens a program sees are exactly the ones it was given, in order, from fd 3 on.
// Usage: preopens.wasm [GUEST_NAME...]  (the names expected, in --dir order)
// With no names, nothing at fd 3 may be reachable: that is a process without a file-system
// capability.
#include "fs.h"

int main(int argc, char **argv) {
    checks_begin("preopens: exactly the directories granted");
    int expected = argc - 1;
    __wasi_fd_t fd = 3;
    for (int i = 0; i < expected; i++, fd++) {
        const char *want = argv[i + 1];
        __wasi_prestat_t prestat;
        if (!expect_ok(__wasi_fd_prestat_get(fd, &prestat), "fd_prestat_get(%u)", fd)) continue;
        expect_u64(prestat.tag, __WASI_PREOPENTYPE_DIR, "fd %u prestat tag (dir is 0)", fd);
        char name[256] = {0};
        size_t len = prestat.u.dir.pr_name_len;
        if (len > sizeof name) len = sizeof name;
        expect_ok(__wasi_fd_prestat_dir_name(fd, (uint8_t *)name, len),
                  "fd_prestat_dir_name(%u)", fd);
        expect_bytes(name, len, want, "fd %u preopen name", fd);
        __wasi_fdstat_t fdstat;
        expect_ok(__wasi_fd_fdstat_get(fd, &fdstat), "fd_fdstat_get(%u)", fd);
        expect_filetype(fdstat.fs_filetype, __WASI_FILETYPE_DIRECTORY, "fd %u filetype", fd);
    }
    __wasi_prestat_t prestat;
    expect_errno(__wasi_fd_prestat_get(fd, &prestat), __WASI_ERRNO_BADF,
                 "fd_prestat_get(%u), one past the last preopen", fd);
    char name[16];
    expect_errno(__wasi_fd_prestat_dir_name(fd, (uint8_t *)name, sizeof name), __WASI_ERRNO_BADF,
                 "fd_prestat_dir_name(%u)", fd);
    // Nothing reachable at that fd by any other call either.
    __wasi_fdstat_t fdstat;
    expect_errno(__wasi_fd_fdstat_get(fd, &fdstat), __WASI_ERRNO_BADF, "fd_fdstat_get(%u)", fd);
    __wasi_fd_t opened;
    expect_errno(__wasi_path_open(fd, 0, "hello.txt", 0, RIGHTS_FILE_READ, 0, 0, &opened),
                 __WASI_ERRNO_BADF, "path_open(%u, hello.txt)", fd);
    expect_errno(__wasi_path_create_directory(fd, "made"), __WASI_ERRNO_BADF,
                 "path_create_directory(%u, made)", fd);
    uint8_t buf[256];
    __wasi_size_t used;
    expect_errno(__wasi_fd_readdir(fd, buf, sizeof buf, 0, &used), __WASI_ERRNO_BADF,
                 "fd_readdir(%u)", fd);
    return checks_summary();
}
