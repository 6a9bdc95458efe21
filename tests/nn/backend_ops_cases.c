/* The backend-ops test's hand-made cases: each op of ops.def with the
 * attributes the PP-OCRv4 models use and the edge cases around them (odd
 * sizes, asymmetric pads, broadcasting, negative axes and steps, every Resize
 * mode), and what every backend must refuse with a clear error. */
#include "tests/nn/backend_ops.h"

#define D(...)                                                                                     \
    (const int64_t[]) {                                                                            \
        __VA_ARGS__                                                                                \
    }
#define ND(...) (int)(sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), D(__VA_ARGS__)

/* Conv: x [n,c,h,w], weights [co, c/group, kh, kw], optional bias. */
static void conv(int n, int c, int h, int w, int co, int kh, int kw, int sh, int sw, int dil,
                 const int64_t *pads, int group, int bias, const char *desc) {
    hcase t;
    hc_begin(&t, "Conv", ND(n, c, h, w));
    hc_const(&t, ND(co, c / group, kh, kw), -1, 1);
    if (bias) hc_const(&t, ND(co), -1, 1);
    ob_attr_ints(&t.node, "kernel_shape", 2, D(kh, kw));
    ob_attr_ints(&t.node, "strides", 2, D(sh, sw));
    ob_attr_ints(&t.node, "dilations", 2, D(dil, dil));
    ob_attr_ints(&t.node, "pads", 4, pads);
    ob_attr_int(&t.node, "group", group);
    hc_run(&t, 11, desc);
}

static void conv_transpose(int c, int h, int w, int co, int k, int s, int pad, int group, int op,
                           const char *desc) {
    hcase t;
    hc_begin(&t, "ConvTranspose", ND(1, c, h, w));
    hc_const(&t, ND(c, co / group, k, k), -1, 1);
    hc_const(&t, ND(co), -1, 1);
    ob_attr_ints(&t.node, "kernel_shape", 2, D(k, k));
    ob_attr_ints(&t.node, "strides", 2, D(s, s));
    ob_attr_ints(&t.node, "pads", 4, D(pad, pad, pad, pad));
    if (op) ob_attr_ints(&t.node, "output_padding", 2, D(op, op));
    ob_attr_int(&t.node, "group", group);
    hc_run(&t, 11, desc);
}

static void convs(void) {
    conv(1, 3, 33, 47, 8, 3, 3, 2, 2, 1, D(1, 1, 1, 1), 1, 1, "det stem 3x3 s2");
    conv(2, 16, 12, 20, 16, 3, 3, 1, 1, 1, D(1, 1, 1, 1), 16, 1, "depthwise 3x3 s1");
    conv(1, 24, 13, 17, 24, 5, 5, 2, 1, 1, D(2, 2, 2, 2), 24, 1, "depthwise 5x5 s(2,1)");
    conv(1, 20, 9, 31, 40, 1, 1, 1, 1, 1, D(0, 0, 0, 0), 1, 0, "pointwise, no bias");
    conv(1, 32, 10, 14, 24, 3, 3, 1, 1, 1, D(1, 1, 1, 1), 1, 1, "3x3 s1 (Winograd)");
    conv(1, 6, 11, 13, 4, 3, 3, 1, 1, 2, D(2, 2, 2, 2), 2, 1, "dilated, 2 groups");
    conv(1, 5, 7, 9, 3, 3, 2, 1, 2, 1, D(0, 1, 1, 0), 1, 1, "asymmetric pads, 3x2 kernel");
    conv(1, 4, 1, 1, 6, 1, 1, 1, 1, 1, D(0, 0, 0, 0), 1, 1, "1x1 input");
    conv_transpose(16, 8, 12, 16, 2, 2, 0, 1, 0, "det k2 s2");
    conv_transpose(6, 5, 7, 4, 3, 2, 1, 2, 1, "k3 s2 p1, groups, output_padding");
    conv_transpose(3, 6, 6, 5, 4, 2, 1, 1, 0, "k4 s2 p1 (overlapping windows)");
}

static void unaries(void) {
    static const char *ops[] = {"Relu", "Sigmoid", "HardSwish", "Sqrt"};
    for (int i = 0; i < 4; i++) {
        hcase t;
        hc_begin(&t, ops[i], ND(2, 3, 17, 9));
        hc_run(&t, 14, "4-D");
        hc_begin(&t, ops[i], ND(1, 40001));
        hc_run(&t, 14, "long and odd");
    }
    hcase t;
    hc_begin(&t, "HardSigmoid", ND(3, 50, 7));
    ob_attr_float(&t.node, "alpha", 0.2f);
    ob_attr_float(&t.node, "beta", 0.5f);
    hc_run(&t, 11, "PaddleOCR's alpha 0.2");
    hc_begin(&t, "HardSigmoid", ND(3, 50, 7));
    hc_run(&t, 11, "default alpha and beta");
    hc_begin(&t, "Clip", ND(2, 8, 5, 5));
    hc_floats(&t, 0, NULL, (const float[]){0.f});
    hc_floats(&t, 0, NULL, (const float[]){0.5f});
    hc_run(&t, 11, "min and max inputs");
    hc_begin(&t, "Clip", ND(2, 8, 5, 5));
    ob_attr_float(&t.node, "min", -0.25f);
    ob_attr_float(&t.node, "max", 0.75f);
    hc_run(&t, 6, "opset 6 attributes");
    hc_begin(&t, "BatchNormalization", ND(2, 6, 5, 7));
    hc_const(&t, ND(6), 0.5f, 1.5f);
    hc_const(&t, ND(6), -1, 1);
    hc_const(&t, ND(6), -1, 1);
    hc_const(&t, ND(6), 0.5f, 2);
    ob_attr_float(&t.node, "epsilon", 1e-5f);
    hc_run(&t, 11, "inference mode");
}

static void binaries(void) {
    static const char *ops[] = {"Add", "Sub", "Mul", "Div", "Pow"};
    for (int i = 0; i < 5; i++) {
        hcase t;
        float lo = i == 4 ? 1 : 0.5f, hi = i == 4 ? 3 : 2;
        hc_begin(&t, ops[i], ND(2, 3, 4, 5));
        hc_const(&t, ND(2, 3, 4, 5), lo, hi);
        hc_run(&t, 13, "same shape");
        hc_begin(&t, ops[i], ND(2, 3, 4, 5));
        hc_const(&t, ND(5), lo, hi);
        hc_run(&t, 13, "last axis broadcast");
        hc_begin(&t, ops[i], ND(2, 3, 4, 5));
        hc_const(&t, ND(3, 1, 1), lo, hi);
        hc_run(&t, 13, "channel broadcast");
        hc_begin(&t, ops[i], ND(1, 7, 33));
        hc_const(&t, 0, NULL, lo, hi);
        hc_run(&t, 13, "scalar");
        hc_begin(&t, ops[i], ND(4, 1, 6));
        hc_const(&t, ND(3, 1), lo, hi);
        hc_run(&t, 13, "both sides broadcast");
        hc_begin(&t, ops[i], ND(3, 9));
        hc_x(&t);
        hc_run(&t, 13, "x with itself");
    }
    hcase t;
    hc_begin(&t, "Add", ND(2, 3, 4));
    hc_const(&t, ND(2, 4), -1, 1);
    hc_run_refused(&t, 13, "Add shapes that do not broadcast", "do not broadcast");
}

static void matmuls(void) {
    hcase t;
    hc_begin(&t, "MatMul", ND(2, 25, 120));
    hc_const(&t, ND(120, 360), -1, 1);
    hc_run(&t, 13, "rec's SVTR projection");
    hc_begin(&t, "MatMul", ND(7, 5));
    hc_const(&t, ND(5, 3), -1, 1);
    hc_run(&t, 13, "2-D, odd");
    hc_begin(&t, "MatMul", ND(2, 3, 4, 5));
    hc_const(&t, ND(2, 3, 5, 6), -1, 1);
    hc_run(&t, 13, "batched on both sides");
    hc_begin(&t, "MatMul", ND(5, 8));
    hc_const(&t, ND(3, 8, 4), -1, 1);
    hc_run(&t, 13, "one A for many Bs");
    hc_begin(&t, "MatMul", ND(2, 1, 4, 5));
    hc_const(&t, ND(1, 3, 5, 6), -1, 1);
    hc_run_refused(&t, 13, "MatMul partial batch broadcast", "broadcast only partly");
}

static void softmax_reduce(void) {
    hcase t;
    hc_begin(&t, "Softmax", ND(2, 8, 25, 25));
    ob_attr_int(&t.node, "axis", -1);
    hc_run(&t, 13, "attention, last axis");
    hc_begin(&t, "Softmax", ND(2, 40, 6625));
    ob_attr_int(&t.node, "axis", 2);
    hc_run(&t, 13, "rec's output classes");
    hc_begin(&t, "Softmax", ND(2, 3, 4, 5));
    ob_attr_int(&t.node, "axis", 1);
    hc_run(&t, 11, "opset 11: flattened from axis 1");
    hc_begin(&t, "Softmax", ND(2, 3, 4));
    ob_attr_int(&t.node, "axis", 1);
    hc_run_refused(&t, 13, "Softmax over a middle axis", "other than the last");
    hc_begin(&t, "ReduceMean", ND(2, 25, 120));
    ob_attr_ints(&t.node, "axes", 1, D(-1));
    hc_run(&t, 13, "LayerNorm's mean, keepdims");
    hc_begin(&t, "ReduceMean", ND(2, 3, 4, 5));
    ob_attr_ints(&t.node, "axes", 2, D(1, 2));
    ob_attr_int(&t.node, "keepdims", 0);
    hc_run(&t, 13, "middle axes, no keepdims");
    hc_begin(&t, "ReduceMean", ND(3, 4, 5));
    hc_run(&t, 13, "every axis");
    hc_begin(&t, "ReduceMean", ND(3, 4, 5));
    hc_ints(&t, 1, D(1));
    hc_run(&t, 18, "opset 18: axes as an input");
    hc_begin(&t, "ReduceMean", ND(2, 3, 4));
    ob_attr_ints(&t.node, "axes", 2, D(0, 2));
    hc_run_refused(&t, 13, "ReduceMean over axes that are not contiguous", "contiguous");
}

static void pool(const char *op, int h, int w, int k0, int k1, int s0, int s1, int pad, int incl,
                 const char *desc) {
    hcase t;
    hc_begin(&t, op, ND(2, 5, h, w));
    ob_attr_ints(&t.node, "kernel_shape", 2, D(k0, k1));
    ob_attr_ints(&t.node, "strides", 2, D(s0, s1));
    ob_attr_ints(&t.node, "pads", 4, D(pad, pad, pad, pad));
    if (incl) ob_attr_int(&t.node, "count_include_pad", 1);
    hc_run(&t, 11, desc);
}

static void pools(void) {
    hcase t;
    hc_begin(&t, "GlobalAveragePool", ND(2, 8, 5, 7));
    hc_run(&t, 11, "SE block");
    hc_begin(&t, "GlobalAveragePool", ND(1, 3, 1, 1));
    hc_run(&t, 11, "1x1");
    pool("MaxPool", 17, 23, 3, 3, 2, 2, 1, 0, "3x3 s2 p1");
    pool("MaxPool", 8, 40, 2, 2, 2, 2, 0, 0, "2x2 s2");
    pool("AveragePool", 12, 40, 2, 2, 2, 2, 0, 0, "2x2 s2");
    pool("AveragePool", 6, 80, 3, 2, 3, 2, 0, 0, "rec's (3,2)");
    pool("AveragePool", 7, 11, 2, 3, 2, 2, 0, 0, "windows inside, a row and columns left over");
    pool("AveragePool", 9, 11, 3, 3, 1, 1, 1, 0, "3x3 p1, pads not counted");
    pool("AveragePool", 9, 11, 3, 3, 1, 1, 1, 1, "3x3 p1, count_include_pad");
    hc_begin(&t, "MaxPool", ND(1, 2, 9, 9));
    ob_attr_ints(&t.node, "kernel_shape", 2, D(3, 3));
    ob_attr_ints(&t.node, "dilations", 2, D(2, 2));
    hc_run_refused(&t, 11, "MaxPool with dilations", "dilated");
}

static void resize(const char *coord, const char *nearest, float sh, float sw, int h, int w,
                   const char *desc) {
    hcase t;
    hc_begin(&t, "Resize", ND(1, 3, h, w));
    hc_absent(&t);
    hc_floats(&t, ND(4), (const float[]){1, 1, sh, sw});
    ob_attr_str(&t.node, "mode", "nearest");
    ob_attr_str(&t.node, "coordinate_transformation_mode", coord);
    ob_attr_str(&t.node, "nearest_mode", nearest);
    hc_run(&t, 13, desc);
}

static void resizes(void) {
    resize("asymmetric", "floor", 2, 2, 8, 12, "det's x2 (asymmetric, floor)");
    resize("half_pixel", "round_prefer_floor", 2, 2, 5, 7, "half_pixel x2");
    resize("half_pixel", "round_prefer_ceil", 0.5f, 0.5f, 10, 14, "half_pixel /2, ties up");
    resize("align_corners", "round_prefer_floor", 3, 1.5f, 4, 6, "align_corners x3, x1.5");
    resize("pytorch_half_pixel", "ceil", 2, 3, 1, 5, "pytorch_half_pixel, 1-pixel rows");
    hcase t;
    hc_begin(&t, "Resize", ND(1, 3, 4, 5));
    hc_absent(&t);
    hc_absent(&t);
    hc_ints(&t, 4, D(1, 3, 9, 11));
    ob_attr_str(&t.node, "coordinate_transformation_mode", "asymmetric");
    ob_attr_str(&t.node, "nearest_mode", "floor");
    hc_run(&t, 13, "sizes instead of scales");
    hc_begin(&t, "Resize", ND(1, 3, 4, 5));
    hc_absent(&t);
    hc_floats(&t, ND(4), (const float[]){1, 1, 2, 2});
    ob_attr_str(&t.node, "mode", "linear");
    hc_run_refused(&t, 13, "Resize in linear mode", "not supported");
}

static void data_movement(void) {
    hcase t;
    hc_begin(&t, "Concat", ND(2, 3, 4, 5));
    hc_const(&t, ND(2, 6, 4, 5), -1, 1);
    hc_x(&t);
    ob_attr_int(&t.node, "axis", 1);
    hc_run(&t, 13, "channels, three inputs");
    hc_begin(&t, "Concat", ND(2, 3, 4));
    hc_const(&t, ND(2, 3, 7), -1, 1);
    ob_attr_int(&t.node, "axis", -1);
    hc_run(&t, 13, "last axis");
    hc_begin(&t, "Concat", ND(2, 3));
    hc_const(&t, ND(5, 3), -1, 1);
    ob_attr_int(&t.node, "axis", 0);
    hc_run(&t, 13, "first axis");
    hc_begin(&t, "Transpose", ND(2, 3, 4, 5));
    ob_attr_ints(&t.node, "perm", 4, D(0, 2, 1, 3));
    hc_run(&t, 13, "attention heads");
    hc_begin(&t, "Transpose", ND(2, 3, 4, 5, 6));
    hc_run(&t, 13, "5-D, reversed by default");
    hc_begin(&t, "Transpose", ND(37, 19));
    ob_attr_ints(&t.node, "perm", 2, D(1, 0));
    hc_run(&t, 13, "2-D");
    hc_begin(&t, "Slice", ND(3, 8, 10));
    hc_ints(&t, 2, D(1, -7));
    hc_ints(&t, 2, D(INT64_MAX, -1));
    hc_ints(&t, 2, D(0, 2));
    hc_ints(&t, 2, D(1, 2));
    hc_run(&t, 13, "negative indices, step 2, end past the end");
    hc_begin(&t, "Slice", ND(4, 9));
    hc_ints(&t, 1, D(-1));
    hc_ints(&t, 1, D(INT64_MIN));
    hc_ints(&t, 1, D(1));
    hc_ints(&t, 1, D(-2));
    hc_run(&t, 13, "reversed with step -2");
    hc_begin(&t, "Slice", ND(2, 3, 4, 5));
    hc_ints(&t, 1, D(0));
    hc_ints(&t, 1, D(2));
    hc_run(&t, 13, "axes and steps absent");
    hc_begin(&t, "Slice", ND(3, 4, 5, 6));
    hc_ints(&t, 2, D(1, 2));
    hc_ints(&t, 2, D(2, 5));
    hc_ints(&t, 2, D(0, 2));
    hc_run(&t, 13, "in runs: the first axis, and a middle one cut with step 1");
    hc_begin(&t, "Slice", ND(3, 8, 2, 40, 15));
    hc_ints(&t, 1, D(2));
    hc_ints(&t, 1, D(3));
    hc_run(&t, 13, "the recognizer's q, k, v: one run");
}

static void views(void) {
    hcase t;
    hc_begin(&t, "Reshape", ND(2, 3, 4, 5));
    hc_ints(&t, 3, D(0, -1, 5));
    hc_run_view(&t, 13, "Reshape with 0 and -1", ND(2, 12, 5));
    hc_begin(&t, "Flatten", ND(2, 3, 4, 5));
    ob_attr_int(&t.node, "axis", 2);
    hc_run_view(&t, 13, "Flatten at axis 2", ND(6, 20));
    hc_begin(&t, "Squeeze", ND(2, 1, 4, 1));
    hc_ints(&t, 1, D(-1));
    hc_run_view(&t, 13, "Squeeze the last axis", ND(2, 1, 4));
    hc_begin(&t, "Unsqueeze", ND(2, 4));
    hc_ints(&t, 2, D(0, -1));
    hc_run_view(&t, 13, "Unsqueeze first and last", ND(1, 2, 4, 1));
    hc_begin(&t, "Identity", ND(3, 5));
    hc_run_view(&t, 13, "Identity", ND(3, 5));
    hc_begin(&t, "Cast", ND(3, 5));
    ob_attr_int(&t.node, "to", 1);
    hc_run_view(&t, 13, "Cast to float", ND(3, 5));
    /* Shape, Gather and Constant run only on the host, at plan time. */
    hc_begin(&t, "Shape", ND(3, 5));
    hc_run_refused(&t, 13, "Shape as the graph's output", "not float32");
    hc_begin(&t, "Gather", ND(4, 3));
    hc_ints(&t, 2, D(3, 0));
    hc_run_refused(&t, 13, "Gather on a tensor computed at run time", "only Gather on constants");
    static const float value[6] = {1, -2, 3.5f, 0, 1e-3f, -7};
    hc_begin(&t, "Constant", ND(2, 2));
    ob_attr_tensor(&t.node, "value", ND(2, 3), value);
    hc_run_values(&t, 13, "Constant as the graph's output", ND(2, 3), value);
}

void hand_cases(const char *only) {
    (void)only; /* each hc_run filters */
    convs();
    unaries();
    binaries();
    matmuls();
    softmax_reduce();
    pools();
    resizes();
    data_movement();
    views();
}
