/* One output row of the depthwise conv (conv_dw.c), for one vector width.
 * The includer defines DW_VEC (a GCC vector of floats), DW_L (its lanes) and
 * DW_ROW (the function's name); tap_col comes from conv_dw.c.
 *
 * out[ox] = sum w[ky][kx] * xp[row ky][ox*SW + kx]. Four vectors of outputs
 * stay in registers for all K*K taps, so each input is loaded once per tap
 * and each output stored once; four independent sums, because one alone
 * would wait on the FMA latency at every tap. K and SW are constants in the
 * callers, so the loops unroll. With SW == 2 the rows are split in even and
 * odd halves (dw_pitch): column ox*2 + kx is at (kx & 1) * half + ox + kx / 2. */
static inline __attribute__((always_inline)) void DW_ROW(const float *restrict xp, size_t wp,
                                                         size_t half, const float *restrict w,
                                                         int K, int SW, float *restrict out,
                                                         int w_out) {
    int ox = 0;
    for (; ox + 4 * DW_L <= w_out; ox += 4 * DW_L) {
        DW_VEC a[4] = {{0}};
        for (int ky = 0; ky < K; ky++)
            for (int kx = 0; kx < K; kx++) {
                const float *p = xp + (size_t)ky * wp + tap_col(SW, half, ox, kx);
                float wv = w[ky * K + kx];
                for (int u = 0; u < 4; u++) {
                    DW_VEC v;
                    memcpy(&v, p + u * DW_L, sizeof(v));
                    a[u] += wv * v;
                }
            }
        memcpy(out + ox, a, sizeof(a));
    }
    /* Then one vector at a time; the last outputs as a full vector too:
     * their taps read up to DW_L - 1 floats past the row, into the next one
     * or the plane's slack, and only the valid lanes are stored. */
    for (; ox < w_out; ox += DW_L) {
        DW_VEC acc = {0};
        for (int ky = 0; ky < K; ky++)
            for (int kx = 0; kx < K; kx++) {
                DW_VEC v;
                memcpy(&v, xp + (size_t)ky * wp + tap_col(SW, half, ox, kx), sizeof(v));
                acc += w[ky * K + kx] * v;
            }
        if (w_out - ox >= DW_L) {
            memcpy(out + ox, &acc, sizeof(acc));
        } else {
            float lanes[DW_L];
            memcpy(lanes, &acc, sizeof(acc));
            memcpy(out + ox, lanes, sizeof(float) * (size_t)(w_out - ox));
        }
    }
}
