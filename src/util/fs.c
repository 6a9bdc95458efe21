/* Path helpers. */
#define _POSIX_C_SOURCE 200809L
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

q_status q_path_join(char *out, size_t cap, const char *a, const char *b) {
    size_t la = strlen(a);
    int n = (la && a[la - 1] == '/') ? snprintf(out, cap, "%s%s", a, b)
                                     : snprintf(out, cap, "%s/%s", a, b);
    if (n < 0 || (size_t)n >= cap) return Q_FAIL(Q_ERR_USAGE, "path too long: %s/%s", a, b);
    return Q_OK;
}

q_status q_mkdirs(const char *path) {
    char tmp[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof tmp) return Q_FAIL(Q_ERR_USAGE, "bad directory path '%s'", path);
    memcpy(tmp, path, n + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
            return Q_FAIL(Q_ERR_IO, "cannot create directory %s: %s", tmp, strerror(errno));
        *p = '/';
    }
    if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
        return Q_FAIL(Q_ERR_IO, "cannot create directory %s: %s", tmp, strerror(errno));
    struct stat st;
    if (stat(tmp, &st) != 0 || !S_ISDIR(st.st_mode))
        return Q_FAIL(Q_ERR_IO, "%s exists and is not a directory", tmp);
    return Q_OK;
}
