// Checkpoint folders: complete or absent (never half-written), the latest complete one found, run
// identities compared key by key, and trainer_state.json read back exactly.
#include <gtest/gtest.h>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "support/test_support.hpp"
#include "train/checkpoint.hpp"

using namespace slmtune;
using namespace slmtune::train;
using slmtune::testing::TempDir;

TEST(Checkpoint, WrittenWholeOrNotAtAll) {
  TempDir dir;
  const auto path = write_checkpoint(dir.path(), 4, [](const std::filesystem::path& tmp) {
    EXPECT_NE(tmp.filename(), "checkpoint-4");  // not yet under its final name
    EXPECT_FALSE(std::filesystem::exists(tmp.parent_path() / "checkpoint-4"));
    write_file_atomically(tmp / "trainer_state.json", "{}");
  });
  EXPECT_EQ(path, dir / "checkpoint-4");
  EXPECT_TRUE(std::filesystem::is_regular_file(dir / "checkpoint-4" / "trainer_state.json"));
  // A failure while filling leaves no folder behind, and the earlier checkpoint untouched.
  EXPECT_THROW(write_checkpoint(dir.path(), 8, [](const std::filesystem::path& tmp) {
                 write_file_atomically(tmp / "adapter_model.safetensors", "partial");
                 fail("disk full");
               }),
               Error);
  size_t entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 1u);
  EXPECT_EQ(latest_checkpoint(dir.path()), dir / "checkpoint-4");
}

TEST(Checkpoint, LatestIgnoresIncompleteAndForeignFolders) {
  TempDir dir;
  for (const char* name : {"checkpoint-2", "checkpoint-10", "checkpoint-9"}) {
    std::filesystem::create_directories(dir / name);
    write_file_atomically(dir / name / "trainer_state.json", "{}");
  }
  std::filesystem::create_directories(dir / "checkpoint-12");  // no state: a folder someone made by hand
  std::filesystem::create_directories(dir / "checkpoint-x1");
  std::filesystem::create_directories(dir / ".partial-checkpoint-14");  // a killed run's leftover
  EXPECT_EQ(latest_checkpoint(dir.path()), dir / "checkpoint-10");  // numerically, not by name
  remove_partial_checkpoints(dir.path());
  EXPECT_FALSE(std::filesystem::exists(dir / ".partial-checkpoint-14"));
  EXPECT_TRUE(std::filesystem::exists(dir / "checkpoint-12"));
  EXPECT_TRUE(latest_checkpoint(dir / "nothing-here").empty());
}

TEST(Checkpoint, StateRoundTripsAndIdentityNamesTheDifference) {
  TrainerState s;
  s.step = 40;
  s.micro_step = 160;
  s.samples_seen = 640;
  s.data_order.rng = {1, 2, 0xffffffffffffffffULL, 4};
  s.data_order.epoch = 3;
  s.data_order.cursor = 5;
  s.data_order.order = {2, 0, 1};
  s.best_metric = 0.25;
  s.best_step = 30;
  s.best_checkpoint = "checkpoint-30";
  LogEntry e;
  e.step = 40;
  e.has_train = true;
  e.loss = 1.5;
  s.log_history.push_back(e);
  s.identity = {{"method", "lora"}, {"r", 8}};
  const TrainerState back = trainer_state_from_json(parse_json(trainer_state_to_json(s).dump(), "x"), "x");
  EXPECT_EQ(back.step, 40);
  EXPECT_EQ(back.micro_step, 160);
  EXPECT_EQ(back.data_order.rng, s.data_order.rng);
  EXPECT_EQ(back.data_order.order, s.data_order.order);
  EXPECT_EQ(back.data_order.cursor, 5u);
  EXPECT_EQ(back.best_metric, 0.25);
  EXPECT_EQ(back.log_history.size(), 1u);
  EXPECT_EQ(back.log_history[0].loss, 1.5);

  check_run_identity(s.identity, Json{{"r", 8}, {"method", "lora"}}, "state.json");  // order does not matter
  try {
    check_run_identity(s.identity, Json{{"method", "dora"}, {"r", 8}}, "state.json");
    FAIL();
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(), "state.json: the checkpoint belongs to another run: method is \"lora\" there but \"dora\" here");
  }
  EXPECT_THROW(check_run_identity(s.identity, Json{{"use_dora", false}}, "state.json"), Error);  // absent there
  EXPECT_THROW(trainer_state_from_json(Json{{"step", "x"}}, "state.json"), Error);
}
