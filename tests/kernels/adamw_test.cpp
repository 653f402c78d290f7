#include "kernels/adamw.hpp"

#include "core/error.hpp"
#include "kernel_test_util.hpp"
#include "kernels/adamw_reference.hpp"

namespace slmtune::kernels {
namespace {

using namespace testing;

TEST(AdamW, ThreeStepsMatchTorchFormulaByHand) {
  // torch.optim.AdamW's update, evaluated in double precision (Python) for p = 1, lr 0.1, wd 0.01,
  // betas (0.9, 0.999), eps 1e-8 and gradients 0.5, −0.25, 0.125.
  const std::vector<double> expected{0.899000002, 0.8714672987058463, 0.8365529176159483};
  const std::vector<float> gradients{0.5f, -0.25f, 0.125f};
  const AdamWSettings settings{.lr = 0.1f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f, .weight_decay = 0.01f};
  for_each_path([&](const std::string& path) {
    // 9 copies so the AVX2 body (8 lanes) and the scalar tail both run.
    std::vector<float> p(9, 1.0f), m(9, 0.0f), v(9, 0.0f);
    for (int step = 1; step <= 3; ++step) {
      const std::vector<float> g(9, gradients[step - 1]);
      adamw_update(p.data(), g.data(), m.data(), v.data(), 9, settings, step);
      for (int i = 0; i < 9; ++i) EXPECT_NEAR(p[i], expected[step - 1], 2e-6) << path << " step " << step;
    }
  });
}

TEST(AdamW, FastPathMatchesReference) {
  const int64_t count = 70001;
  auto p = f32_exact(random_doubles(count, 1)), m = f32_exact(random_doubles(count, 2, -0.1, 0.1));
  auto v = f32_exact(random_doubles(count, 3, 0.0, 0.01));
  const auto g = f32_exact(random_doubles(count, 4));
  const AdamWSettings settings{.lr = 2e-4f, .beta1 = 0.9f, .beta2 = 0.95f, .eps = 1e-6f, .weight_decay = 0.1f};
  for_each_path([&](const std::string& path) {
    auto pf = to_float(p), mf = to_float(m), vf = to_float(v);
    const auto gf = to_float(g);
    adamw_update(pf.data(), gf.data(), mf.data(), vf.data(), count, settings, 7);
    std::vector<double> pd = p, md = m, vd = v;
    reference::adamw_update(pd.data(), g.data(), md.data(), vd.data(), count, double(settings.lr),
                            double(settings.beta1), double(settings.beta2), double(settings.eps),
                            double(settings.weight_decay), int64_t{7});
    expect_close(pf, pd, 1e-7, 1e-6, path + " param");
    expect_close(mf, md, 1e-8, 1e-6, path + " m");
    expect_close(vf, vd, 1e-10, 1e-6, path + " v");
  });
}

TEST(AdamW, RejectsStepZero) {
  float p = 0, g = 0, m = 0, v = 0;
  EXPECT_THROW(adamw_update(&p, &g, &m, &v, 1, {}, 0), Error);
}

}  // namespace
}  // namespace slmtune::kernels
