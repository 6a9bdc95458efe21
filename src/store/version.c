/* The HDF5 version quire runs with, for `quire info`. */
#include <hdf5.h>
#include <stdio.h>

#include "store/store.h"

const char *store_version(void) {
    static char v[64];
    unsigned maj = 0, min = 0, rel = 0;
    H5get_libversion(&maj, &min, &rel);
#ifdef H5_HAVE_PARALLEL
    snprintf(v, sizeof v, "HDF5 %u.%u.%u (parallel)", maj, min, rel);
#else
    snprintf(v, sizeof v, "HDF5 %u.%u.%u (serial)", maj, min, rel);
#endif
    return v;
}
