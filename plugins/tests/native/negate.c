/* A native plugin written in C against candela_plugin.h: the close, negated.
 * Built with CANDELA_TEST_VERSION set to another number, it claims an ABI
 * version Candela does not know. */
#include <math.h>
#include <stdio.h>
#include "candela_plugin.h"

#ifndef CANDELA_TEST_VERSION
#define CANDELA_TEST_VERSION CANDELA_ABI_VERSION
#endif

static int32_t prepare(const double *params, size_t param_count, int64_t *history, CandelaError error) {
    (void)params;
    (void)param_count;
    (void)error;
    *history = 0;
    return 0;
}

static int32_t compute(const CandelaBars *bars, const double *params, size_t param_count,
                       double *const *outputs, size_t output_count, CandelaError error) {
    (void)params;
    (void)param_count;
    if (output_count != 1) {
        snprintf(error.text, error.capacity, "expected 1 output, got %zu", output_count);
        return 1;
    }
    for (size_t i = 0; i < bars->len; i++) outputs[0][i] = -bars->close[i];
    return 0;
}

static const CandelaPlugin PLUGIN = {
    CANDELA_TEST_VERSION,
    "{\"id\": \"negate\", \"name\": \"Negated close (C)\", \"category\": \"Testing\","
    " \"outputs\": [{\"name\": \"negated\", \"placement\": \"pane\"}], \"inputs\": [\"close\"]}",
    prepare,
    compute,
};

const CandelaPlugin *candela_plugin(void) { return &PLUGIN; }
