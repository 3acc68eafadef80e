#ifndef HOOKLINE_FUZZ_LIBFUZZER_H
#define HOOKLINE_FUZZ_LIBFUZZER_H

#include <stddef.h>
#include <stdint.h>

// libFuzzer's driver (in the runtime that -sanitize=fuzzer links). The fuzz targets call it from
// their own `main`, because SwiftPM links Linux executables with `--defsym main=<Module>_main`,
// so libFuzzer's `main` cannot be the entry point.
int LLVMFuzzerRunDriver(int *_Nonnull argc, char *_Nullable *_Nullable *_Nonnull argv,
                        int (*_Nonnull callback)(const uint8_t *_Nonnull data, size_t size));

#endif
