// libFuzzer target for the safetensors reader. Bad input must end in slmtune::Error; anything else is
// a bug. A file that opens is written back and re-read, and must give the same tensors and metadata.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "core/error.hpp"
#include "formats/safetensors.hpp"

using namespace slmtune;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto file =
        safetensors::File::open_bytes({reinterpret_cast<const std::byte*>(data), size}, "fuzz.safetensors");
    safetensors::Writer writer;
    for (const auto& [key, value] : file.metadata()) writer.set_metadata(key, value);
    for (const auto& entry : file.tensors()) {
      const Tensor t = file.tensor(entry.name);
      check(t.nbytes() == entry.end - entry.begin);
      // core: to_f32_vector() of an empty tensor memcpy()s to a null pointer (UBSan), reported upstream.
      if (dtype_is_float(t.dtype()) && t.numel() > 0) (void)t.to_f32_vector();
      writer.add(entry.name, t);
    }
    const std::vector<std::byte> written = writer.serialize();
    const auto again = safetensors::File::open_bytes(written, "round-trip");
    check(again.tensors().size() == file.tensors().size());
    check(again.metadata() == file.metadata());
    for (const auto& entry : file.tensors()) {
      const auto* other = again.find(entry.name);
      check(other != nullptr && other->dtype == entry.dtype && other->shape == entry.shape);
      const Tensor a = file.tensor(entry.name), b = again.tensor(entry.name);
      check(a.nbytes() == b.nbytes() && (a.nbytes() == 0 || std::memcmp(a.data(), b.data(), a.nbytes()) == 0));
    }
  } catch (const Error&) {
    // expected for malformed input
  }
  return 0;
}
