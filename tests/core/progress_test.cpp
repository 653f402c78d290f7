// The progress line's layout and the duration format; the terminal/plain switch is exercised by the
// CLI tests, which run without a terminal and must see plain log lines only.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "core/progress.hpp"

using slmtune::Progress;

TEST(Progress, DurationsReadLikeAClock) {
  EXPECT_EQ(Progress::format_duration(0), "0s");
  EXPECT_EQ(Progress::format_duration(59.4), "59s");
  EXPECT_EQ(Progress::format_duration(187), "3m07s");
  EXPECT_EQ(Progress::format_duration(3720), "1h02m");
  EXPECT_EQ(Progress::format_duration(NAN), "?");
  EXPECT_EQ(Progress::format_duration(-1), "?");
}

TEST(Progress, LineShowsBarCountFieldsAndEta) {
  const std::string line = Progress::render("train", 25, 100, "loss 1.2345", 90, 100);
  EXPECT_EQ(line.rfind("train [", 0), 0u) << line;
  EXPECT_NE(line.find(" 25/100 | loss 1.2345 | ETA 1m30s"), std::string::npos) << line;
  // A quarter of the cells is filled.
  const size_t open = line.find('['), close = line.find(']');
  const std::string bar = line.substr(open + 1, close - open - 1);
  EXPECT_EQ(static_cast<size_t>(std::count(bar.begin(), bar.end(), '#')), bar.size() / 4);
  EXPECT_LE(line.size(), 100u);
  // Narrow terminals cut the line rather than wrap it.
  EXPECT_LE(Progress::render("train", 1, 3, "loss 1.0 | lr 2.0e-04 | 1234 tok/s", 5, 40).size(), 40u);
  // Done is full, never more than full.
  const std::string done = Progress::render("", 120, 100, "", 0, 80);
  EXPECT_EQ(done.find('.'), std::string::npos) << done;
}
