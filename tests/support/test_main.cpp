// The main() of every test suite: GoogleTest's, after the BLAS kernel check slmtune itself makes, so
// that the suites run the matrix products on the kernels the program runs them on.
#include <gtest/gtest.h>

#include "core/blas_kernels.hpp"

int main(int argc, char** argv) {
  slmtune::match_blas_kernels_to_cpu(argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
