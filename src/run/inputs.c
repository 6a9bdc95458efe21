/* Turns INPUT arguments and manifest lines into the list of documents. The
 * position in this list is the document id, so the walk is deterministic:
 * folder entries sorted by name, every input kept in the order given, a file
 * reached twice kept at its first place. Each entry carries its identity
 * (absolute path, size, modification time) for the journal (run/ident.c). */
#define _DEFAULT_SOURCE /* d_type, realpath */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run/job.h"
#include "run/run.h"

/* Folder walks pick documents by extension; files named explicitly are
 * always taken and recognised by their bytes. */
static const char *const input_exts[] = {".pdf", ".tif", ".tiff", ".png", ".jpg", ".jpeg"};
/* input_exts[0] is the one that is not an image (run_input_is_image) */

enum { INPUT_MAX_DEPTH = 64 };

typedef struct {
    dev_t dev;
    ino_t ino;
} dir_id;

static char *input_strdup(const char *s) {
    size_t n = strlen(s);
    char *p = malloc(n + 1);
    if (p) memcpy(p, s, n + 1);
    return p;
}

/* realpath() of `path`, or, when it does not resolve (missing, a loop),
 * the path made absolute as written. NULL only when out of memory. */
static char *input_abspath(const char *path) {
    char *r = realpath(path, NULL);
    if (r || path[0] == '/') return r ? r : input_strdup(path);
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd)) snprintf(cwd, sizeof cwd, ".");
    size_t n = strlen(cwd) + strlen(path) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", cwd, path);
    return p;
}

/* Adds an entry; `sb` is its stat, or NULL when it could not be stat'ed;
 * `abs` its absolute path when the walk knows it, else NULL (realpath). */
static q_status input_add(run_input_list *l, const char *path, const struct stat *sb,
                          const char *err, const char *abs) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        run_input *v = realloc(l->v, cap * sizeof *v);
        if (!v) return Q_FAIL(Q_ERR_NOMEM, "out of memory listing %zu inputs", l->n);
        l->v = v;
        l->cap = cap;
    }
    run_input *e = &l->v[l->n];
    e->path = input_strdup(path);
    e->error = err ? input_strdup(err) : NULL;
    e->abspath = abs ? input_strdup(abs) : input_abspath(path);
    e->bytes = sb && !err ? (uint64_t)sb->st_size : 0;
    e->mtime_ns = sb ? (int64_t)sb->st_mtim.tv_sec * 1000000000 + sb->st_mtim.tv_nsec : 0;
    if (!e->path || (err && !e->error) || !e->abspath) {
        free(e->path);
        free(e->error);
        free(e->abspath);
        return Q_FAIL(Q_ERR_NOMEM, "out of memory listing inputs");
    }
    l->n++;
    return Q_OK;
}

/* 1 when `name` ends in one of input_exts[from..]. */
static int input_ext_from(const char *name, size_t from) {
    const char *dot = strrchr(name, '.');
    for (size_t i = from; dot && i < Q_ARRAY_LEN(input_exts); i++)
        if (!strcasecmp(dot, input_exts[i])) return 1;
    return 0;
}

static int input_has_doc_ext(const char *name) {
    return input_ext_from(name, 0);
}

int run_input_is_image(const char *path) {
    return input_ext_from(path, 1); /* all but .pdf */
}

/* A folder entry; `plain`: neither a symbolic link nor of unknown type, so
 * that the folder's realpath joined with the name is the entry's own. */
typedef struct {
    char *name;
    int plain;
} input_name;

static int input_cmp_names(const void *a, const void *b) {
    return strcmp(((const input_name *)a)->name, ((const input_name *)b)->name);
}

static q_status input_walk(run_input_list *l, const char *dir, dir_id *stack, int depth);

/* Adds `path` (from the command line when `explicit`, else from a walk);
 * `abs`: its absolute path when known without realpath, else NULL. */
static q_status input_visit(run_input_list *l, const char *path, const char *abs, int explicit,
                            dir_id *stack, int depth) {
    struct stat st;
    if (stat(path, &st) != 0) {
        if (!explicit && errno == ENOENT && !input_has_doc_ext(path))
            return Q_OK; /* a dangling link to something that is not a document */
        char why[160];
        snprintf(why, sizeof why, "%s", errno == ELOOP ? "symbolic link loop" : strerror(errno));
        return input_add(l, path, NULL, why, NULL);
    }
    if (S_ISDIR(st.st_mode)) {
        for (int i = 0; i < depth; i++) {
            if (stack[i].dev == st.st_dev && stack[i].ino == st.st_ino) {
                char why[160];
                snprintf(why, sizeof why, "symbolic link loop: folder leads back to an ancestor");
                return input_add(l, path, NULL, why, NULL);
            }
        }
        if (depth >= INPUT_MAX_DEPTH)
            return input_add(l, path, NULL, "folder nested too deeply (64 levels)", NULL);
        stack[depth].dev = st.st_dev;
        stack[depth].ino = st.st_ino;
        return input_walk(l, path, stack, depth + 1);
    }
    if (!explicit && (!S_ISREG(st.st_mode) || !input_has_doc_ext(path))) return Q_OK;
    return input_add(l, path, &st, NULL, abs);
}

static q_status input_walk(run_input_list *l, const char *dir, dir_id *stack, int depth) {
    DIR *d = opendir(dir);
    if (!d) {
        char why[160];
        snprintf(why, sizeof why, "cannot read folder: %s", strerror(errno));
        return input_add(l, dir, NULL, why, NULL);
    }
    q_vec names;
    q_vec_init(&names, sizeof(input_name));
    q_status st = Q_OK;
    struct dirent *e;
    while (!st && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue; /* ".", "..", and hidden files */
        input_name n = {input_strdup(e->d_name), e->d_type == DT_REG || e->d_type == DT_DIR};
        st = n.name ? q_vec_push(&names, &n) : Q_FAIL(Q_ERR_NOMEM, "out of memory");
        if (st) free(n.name);
    }
    closedir(d);
    qsort(names.data, names.len, sizeof(input_name), input_cmp_names);
    /* one realpath per folder instead of one per file: realpath costs a
     * syscall per path component (~20 us a file here, 20 s for a million) */
    char path[4096], abs[4096], *real = realpath(dir, NULL);
    for (size_t i = 0; i < names.len; i++) {
        input_name *n = &Q_VEC_AT(&names, input_name, i);
        int known = real && n->plain && q_path_join(abs, sizeof abs, real, n->name) == Q_OK;
        if (!st && (st = q_path_join(path, sizeof path, dir, n->name)) == Q_OK)
            st = input_visit(l, path, known ? abs : NULL, 0, stack, depth);
        free(n->name);
    }
    free(real);
    q_vec_free(&names);
    return st;
}

static q_status input_expand_one(run_input_list *l, const char *arg) {
    dir_id stack[INPUT_MAX_DEPTH];
    return input_visit(l, arg, NULL, 1, stack, 0);
}

static q_status input_read_manifest(run_input_list *l, const char *manifest) {
    FILE *f = fopen(manifest, "r");
    if (!f) return Q_FAIL(Q_ERR_IO, "cannot read manifest %s: %s", manifest, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    q_status st = Q_OK;
    while (!st && (n = getline(&line, &cap, f)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = 0;
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p || *p == '#') continue;
        st = input_expand_one(l, p);
    }
    if (!st && ferror(f)) st = Q_FAIL(Q_ERR_IO, "error reading manifest %s", manifest);
    free(line);
    fclose(f);
    return st;
}

static const run_input *input_sort_base;
static int input_cmp_abs(const void *a, const void *b) {
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = strcmp(input_sort_base[i].abspath, input_sort_base[j].abspath);
    return c ? c : (i > j) - (i < j);
}

static void input_entry_free(run_input *e) {
    free(e->path);
    free(e->error);
    free(e->abspath);
}

/* Keeps the first of the entries that are the same file (equal abspath),
 * in list order; counts the others in l->repeats. */
static q_status input_drop_repeats(run_input_list *l) {
    size_t *ix = malloc((l->n + 1) * sizeof *ix);
    char *drop = calloc(l->n + 1, 1);
    if (!ix || !drop) {
        free(ix);
        free(drop);
        return Q_FAIL(Q_ERR_NOMEM, "out of memory listing %zu inputs", l->n);
    }
    for (size_t i = 0; i < l->n; i++)
        ix[i] = i;
    input_sort_base = l->v;
    qsort(ix, l->n, sizeof *ix, input_cmp_abs);
    for (size_t k = 1; k < l->n; k++)
        if (!strcmp(l->v[ix[k]].abspath, l->v[ix[k - 1]].abspath)) drop[ix[k]] = 1;
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (drop[i]) {
            input_entry_free(&l->v[i]);
            l->repeats++;
        } else {
            l->v[n++] = l->v[i];
        }
    }
    l->n = n;
    free(ix);
    free(drop);
    return Q_OK;
}

q_status run_inputs_expand(char *const *inputs, int ninputs, const char *manifest,
                           run_input_list *out) {
    memset(out, 0, sizeof *out);
    q_status st = Q_OK;
    for (int i = 0; i < ninputs && !st; i++)
        st = input_expand_one(out, inputs[i]);
    if (!st && manifest) st = input_read_manifest(out, manifest);
    if (!st) st = input_drop_repeats(out);
    if (st) run_inputs_free(out);
    return st;
}

void run_inputs_free(run_input_list *l) {
    if (!l) return;
    for (size_t i = 0; i < l->n; i++)
        input_entry_free(&l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}
