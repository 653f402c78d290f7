#pragma once
// Whether memory a program frees goes back to the operating system at once or stays for the next
// allocation. glibc's malloc serves every block over 32 MiB (and, until it adapts, every block over
// 128 KiB) with a fresh mmap and unmaps it on free, so a training step that allocates and frees the
// same activation buffers as the step before pays a page fault and a page of zeroing for every 4 KiB
// of them, again and again: ~187 000 faults per SmolLM2 LoRA step here, ~766 MB zeroed by the kernel
// (bench/README.md). Kept memory costs nothing in peak RSS, which the first step reaches anyway.

namespace slmtune {

// From here on, malloc takes large blocks from its heap rather than from separate mappings, and does
// not hand freed memory back to the operating system, so a repeated allocation reuses pages that are
// already mapped. Process-wide and permanent: call it once, first thing in main(), in programs whose
// allocations repeat (training, prompt processing). Returns false where the C library refused.
bool keep_freed_memory_for_reuse();

}  // namespace slmtune
