// Works in a large tree the way a tool does: reads three small files, stats a
// large one, then moves a file it never read, renames one it did, appends to
// one, deletes one and (with --generate) writes a new 48 MiB one of every
// byte value. Run on a tree of 1 GiB (tests/wasi/large-tree.test.mjs):
// only what it opens should ever be read, and only what it changed written.
// Usage: large_tree.wasm ROOT [--generate] (ROOT: a preopened directory)
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char path_buf[4096];

static const char *at(const char *root, const char *rel) {
  snprintf(path_buf, sizeof path_buf, "%s/%s", root, rel);
  return path_buf;
}

static int first_line(const char *root, const char *rel) {
  FILE *f = fopen(at(root, rel), "r");
  if (!f) {
    printf("%s: %s\n", rel, strerror(errno));
    return 1;
  }
  char line[256] = "";
  if (!fgets(line, sizeof line, f)) line[0] = '\0';
  line[strcspn(line, "\n")] = '\0';
  printf("%s: %s\n", rel, line);
  fclose(f);
  return 0;
}

static int size_of(const char *root, const char *rel) {
  struct stat st;
  if (stat(at(root, rel), &st) != 0) {
    printf("stat %s: %s\n", rel, strerror(errno));
    return 1;
  }
  printf("%s: %lld bytes\n", rel, (long long)st.st_size);
  return 0;
}

// 48 MiB: each byte a function of its offset, all 256 values.
static int write_generated(const char *root) {
  FILE *f = fopen(at(root, "generated.bin"), "wb");
  if (!f) return -1;
  static unsigned char chunk[1 << 20];
  for (unsigned block = 0; block < 48; block++) {
    for (unsigned i = 0; i < sizeof chunk; i++) chunk[i] = (unsigned char)((block * 7919u + i) * 2654435761u >> 24);
    if (fwrite(chunk, 1, sizeof chunk, f) != sizeof chunk) {
      fclose(f);
      return -1;
    }
  }
  return fclose(f);
}

static int step(const char *what, int result) {
  printf("%s: %s\n", what, result == 0 ? "ok" : strerror(errno));
  return result != 0;
}

int main(int argc, char **argv) {
  bool generate = argc == 3 && strcmp(argv[2], "--generate") == 0;
  if (argc != 2 && !generate) {
    fprintf(stderr, "usage: large_tree ROOT [--generate]\n");
    return 2;
  }
  const char *root = argv[1];
  int failed = 0;
  failed += first_line(root, "docs/readme.txt");
  failed += first_line(root, "src/main.c");
  failed += first_line(root, "deep/a/b/c/leaf.txt");
  failed += size_of(root, "blobs/blob-0.bin");
  char from[4096];
  snprintf(from, sizeof from, "%s", at(root, "blobs/blob-1.bin"));
  failed += step("move blobs/blob-1.bin to moved.bin", rename(from, at(root, "moved.bin")));
  snprintf(from, sizeof from, "%s", at(root, "src/main.c"));
  failed += step("rename src/main.c", rename(from, at(root, "src/renamed.c")));
  failed += step("delete blobs/blob-2.bin", unlink(at(root, "blobs/blob-2.bin")));
  FILE *f = fopen(at(root, "docs/readme.txt"), "a");
  failed += step("append to docs/readme.txt", f && fputs("appended\n", f) >= 0 && fclose(f) == 0 ? 0 : -1);
  if (generate) failed += step("write generated.bin", write_generated(root));
  failed += size_of(root, "moved.bin");
  return failed ? 1 : 0;
}
