#pragma once
// How a backward kernel stores an input gradient.

namespace slmtune::kernels {

// Add: into what the buffer holds, so several paths can sum into one buffer. Overwrite: over it, for
// the first path into a fresh buffer, which then needs no zero-filling first (a training step of
// SmolLM2-135M zero-filled ~0.9 GB of gradient buffers on one thread while the other waited).
enum class GradientStore { Add, Overwrite };

}  // namespace slmtune::kernels
