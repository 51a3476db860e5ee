/* The polyglot demo's C program: writes /data/from-c.txt, then tries to read
 * each sibling's file, which is not in its tree (each process has its own
 * /data). Exits 0 if every read fails, 1 if one succeeds, 2 if it cannot write. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const SIBLINGS[] = {"rust", "go", "c", "js", "python"};
#define ME "c"

int main(void) {
    const char *mine = "/data/from-" ME ".txt";
    FILE *out = fopen(mine, "w");
    if (out == NULL || fputs("written by the " ME " program\n", out) < 0 || fclose(out) != 0) {
        fprintf(stderr, "cannot write %s: %s\n", mine, strerror(errno));
        return 2;
    }
    char refused[256] = "";
    for (size_t i = 0; i < sizeof SIBLINGS / sizeof SIBLINGS[0]; i++) {
        if (strcmp(SIBLINGS[i], ME) == 0) continue;
        char path[64];
        snprintf(path, sizeof path, "/data/from-%s.txt", SIBLINGS[i]);
        FILE *in = fopen(path, "r");
        if (in != NULL) {
            printf("read %s: isolation is broken\n", path);
            return 1;
        }
        char item[48];
        snprintf(item, sizeof item, "%s%s (%s)", refused[0] ? ", " : "", SIBLINGS[i],
                 errno == ENOENT ? "ENOENT" : "refused");
        strncat(refused, item, sizeof refused - strlen(refused) - 1);
    }
    printf("wrote %s; cannot read %s\n", mine, refused);
    return 0;
}
