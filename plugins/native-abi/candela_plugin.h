/* The C ABI of Candela's native indicator plugins, version 1.
 *
 * A native plugin is a shared library exporting
 *
 *     const CandelaPlugin *candela_plugin(void);
 *
 * Candela reads `abi_version` first and refuses a version it does not know.
 * Native plugins run inside the server, unsandboxed: Candela loads them only
 * when candela.toml sets `allow_native_plugins = true`. Their functions may be
 * called from several threads at once and must not keep state between calls.
 * The Rust mirror of this header is the crate candela-native-abi. */
#ifndef CANDELA_PLUGIN_H
#define CANDELA_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#define CANDELA_ABI_VERSION 1

/* Every column of a series of bars, each `len` values long. */
typedef struct {
    size_t len;
    const int64_t *time; /* UTC nanoseconds since the Unix epoch */
    const double *open;
    const double *high;
    const double *low;
    const double *close;
    const double *volume;
} CandelaBars;

/* Where a failing function writes its message: at most `capacity` bytes of
 * UTF-8, NUL included. */
typedef struct {
    char *text;
    size_t capacity;
} CandelaError;

typedef struct {
    uint32_t abi_version; /* CANDELA_ABI_VERSION */
    /* NUL-terminated UTF-8 JSON with the fields of the WIT `metadata` record:
     * {"id", "name", "category", "description",
     *  "params": [{"name", "type": "integer"|"number", "default", "min", "max", "description"}],
     *  "outputs": [{"name", "placement": "overlay"|"pane", "style": "line"|"histogram"|"band"}],
     *  "inputs": ["time"|"open"|"high"|"low"|"close"|"volume", ...]} */
    const char *metadata_json;
    /* Checks the parameters (one per declared parameter, in order, already in
     * range); writes the bars a window needs before it to *history, or -1 for
     * the whole series. Returns 0, or non-zero after writing to `error`. */
    int32_t (*prepare)(const double *params, size_t param_count, int64_t *history,
                       CandelaError error);
    /* Fills one buffer per declared output, each bars->len values, pre-filled
     * with NaN. Returns 0, or non-zero after writing to `error`. */
    int32_t (*compute)(const CandelaBars *bars, const double *params, size_t param_count,
                       double *const *outputs, size_t output_count, CandelaError error);
} CandelaPlugin;

const CandelaPlugin *candela_plugin(void);

#endif
