// fuzz_csv_decoder: the CSV decoder (RFC 4180 quoting, any of four delimiters, with or
// without a header line) and CSV schema inference, as a file source drives them. The input
// layout is described in record_decoder_target.h.
//
// What it proves, for any file: every line either decodes into a row or comes back as a
// RecordError (the dead-letter path) — the decoder never crashes, reads outside the record,
// leaves undefined behaviour (number and timestamp parsing included), or produces a batch
// that breaks the Column invariants (a NULL slot with a value, a string view that cannot be
// read); schema inference either infers a schema the decoder accepts or returns an error; and
// whatever decodes can be encoded again as JSON Lines and CSV.
#include "record_decoder_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return sluice::fuzz::RunRecordDecoderTarget(data, size, sluice::fuzz::RecordFormat::kCsv);
}
