/* .npy reading and writing: round trip, and malformed files rejected with an
 * error (never a crash). */
#include "nn/nn.h"
#include "tests/nn/test_util.h"

int main(void) {
    int failures = 0;
    tu_seed_init();
    const char *path = "nn_npy_test.npy";
    float x[2 * 3 * 5];
    tu_fill(x, 30, -1, 1);
    nn_shape s = {3, {2, 3, 5}}, r;
    float *y = NULL;
    if (nn_npy_write(path, x, &s) || nn_npy_read(path, &y, &r) || r.ndim != 3 || r.dims[2] != 5 ||
        memcmp(x, y, sizeof(x))) {
        printf("FAIL round trip: %s\n", q_errmsg());
        failures++;
    }
    free(y);
    nn_shape one = {1, {7}};
    float z[7] = {0};
    if (nn_npy_write(path, z, &one) || nn_npy_read(path, &y, &r) || r.ndim != 1 || r.dims[0] != 7) {
        printf("FAIL 1-D round trip\n");
        failures++;
    }
    free(y);
    /* Read the file back as bytes and damage it in many ways. */
    FILE *f = fopen(path, "rb");
    uint8_t buf[512];
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    struct {
        const char *find, *repl;
    } bad[] = {{"<f4", "<f8"},
               {"False", "True "},
               {"(7,)", "(8,)"},
               {"'shape'", "'shapX'"},
               {"(7,)", "(x,)"}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint8_t b[512];
        memcpy(b, buf, n);
        char *p = strstr((char *)b + 10, bad[i].find);
        if (p) memcpy(p, bad[i].repl, strlen(bad[i].repl));
        if (nn_npy_parse(b, n, &y, &r) == Q_OK) {
            printf("FAIL damaged header %zu accepted\n", i);
            failures++;
            free(y);
        }
    }
    for (size_t cut = 0; cut < n; cut++)
        if (nn_npy_parse(buf, cut, &y, &r) == Q_OK) {
            printf("FAIL truncated at %zu accepted\n", cut);
            failures++;
            free(y);
        }
    remove(path);
    printf("%s\n", failures ? "FAILED" : "npy ok");
    return failures ? 1 : 0;
}
