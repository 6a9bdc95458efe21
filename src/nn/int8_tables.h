/* The int8 scales tables built into quire: the files of models/int8/,
 * embedded at build time (src/nn/CMakeLists.txt generates int8_tables.c). */
#pragma once

#include <stddef.h>

typedef struct {
    const char *name; /* the file's name, for messages */
    const unsigned char *text;
    size_t len;
} nn_int8_table;

extern const nn_int8_table nn_int8_tables[];
extern const size_t nn_int8_ntables;
