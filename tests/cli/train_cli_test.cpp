// `slmtune train` end to end on a tiny random Llama made by `slmtune new-model`, a byte-level BPE
// learnt by `slmtune tokenizer train` and the built-in ChatML template: the run directory's files
// (PEFT adapter, tokenizer, template, metrics.jsonl, loss.svg, train_config.yaml), a run killed with
// SIGKILL and resumed ending bit-identical to an uninterrupted one, and one-line errors.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <thread>

#include "chat/builtin_templates.hpp"
#include "core/atomic_file.hpp"
#include "formats/json.hpp"
#include "formats/safetensors.hpp"
#include "support/test_support.hpp"

using namespace slmtune;
using slmtune::testing::expect_one_line_error;
using slmtune::testing::run_slmtune;
using slmtune::testing::shell_quote;
using slmtune::testing::TempDir;
using slmtune::testing::write_text;

namespace {

const char* const kColors[][2] = {{"apple", "red"},   {"banana", "yellow"}, {"grass", "green"}, {"sky", "blue"},
                                  {"snow", "white"},  {"coal", "black"},    {"orange", "orange"}, {"plum", "purple"},
                                  {"rose", "pink"},   {"sand", "beige"},    {"ash", "grey"},    {"lemon", "yellow"}};

// A model folder with weights, tokenizer.json and tokenizer_config.json, plus data and a config.
struct Fixture {
  TempDir dir;
  std::filesystem::path model = dir / "model";
  std::filesystem::path config = dir / "run.yaml";

  Fixture() {
    auto made = run_slmtune("new-model --preset tiny-llama --seed 1 " + shell_quote(model));
    EXPECT_EQ(made.exit_code, 0) << made.err;
    std::string corpus, data;
    for (const auto& [thing, color] : kColors) {
      corpus += fmt::format("What color is {}? The {} is {}.\n", thing, thing, color);
      data += fmt::format(R"({{"messages": [{{"role": "user", "content": "What color is {}?"}}, {{"role": "assistant", "content": "{}"}}]}})",
                          thing, color) + "\n";
    }
    write_text(dir / "corpus.txt", corpus);
    auto tok = run_slmtune("tokenizer train --vocab-size 300 --special '<|endoftext|>' --special '<|im_start|>' "
                           "--special '<|im_end|>' -o " + shell_quote(model / "tokenizer.json") + " " + shell_quote(dir / "corpus.txt"));
    EXPECT_EQ(tok.exit_code, 0) << tok.err;
    write_text(model / "tokenizer_config.json",
               R"({"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>", "add_bos_token": false})");
    write_text(dir / "data.jsonl", data);
    write_text(config, fmt::format("model: {}\noutput_dir: {}\nmethod: lora\nlora: {{r: 4, lora_alpha: 8, target_modules: all-linear}}\n"
                                   "chat_template: chatml\nlearning_rate: 0.01\nbatch_size: 2\nlogging_steps: 2\nthreads: 1\n"
                                   "data: {{train: {}}}\n",
                                   model.string(), (dir / "run").string(), (dir / "data.jsonl").string()));
  }

  std::string train(const std::string& extra) const { return "train " + shell_quote(config) + " " + extra; }
};

// Well-formedness of the SVG the trainer writes: every tag closes in order, attributes are quoted.
bool well_formed_xml(const std::string& text, std::string& why) {
  std::vector<std::string> open;
  size_t i = 0;
  while ((i = text.find('<', i)) != std::string::npos) {
    const size_t end = text.find('>', i);
    if (end == std::string::npos) return why = "unclosed '<'", false;
    std::string tag = text.substr(i + 1, end - i - 1);
    i = end + 1;
    if (tag.starts_with("?") || tag.starts_with("!")) continue;
    if (tag.starts_with("/")) {
      if (open.empty() || open.back() != tag.substr(1)) return why = "mismatched </" + tag.substr(1) + ">", false;
      open.pop_back();
      continue;
    }
    const bool self_closing = tag.ends_with("/");
    if (std::count(tag.begin(), tag.end(), '"') % 2 != 0) return why = "odd quotes in <" + tag + ">", false;
    if (!self_closing) open.push_back(tag.substr(0, tag.find_first_of(" \n")));
  }
  if (!open.empty()) return why = "unclosed <" + open.back() + ">", false;
  return true;
}

size_t polyline_points(const std::string& svg, const std::string& cls) {
  const size_t at = svg.find("<polyline class=\"" + cls + "\"");
  if (at == std::string::npos) return 0;
  const size_t begin = svg.find("points=\"", at) + 8;
  const std::string points = svg.substr(begin, svg.find('"', begin) - begin);
  return points.empty() ? 0 : static_cast<size_t>(std::count(points.begin(), points.end(), ' ') + 1);
}

}  // namespace

TEST(TrainCli, WritesTheRunDirectory) {
  Fixture f;
  const auto r = run_slmtune(f.train("--set max_steps=6 --set eval_steps=3 --set data.validation_split=0.25"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("trained 6 steps"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("eval_loss"), std::string::npos) << r.out;
  const auto run = f.dir / "run";

  // PEFT's adapter files with PEFT's keys and tensor names.
  const Json adapter = read_json_file(run / "adapter_config.json");
  EXPECT_EQ(adapter.at("peft_type"), "LORA");
  EXPECT_EQ(adapter.at("task_type"), "CAUSAL_LM");
  EXPECT_EQ(adapter.at("r"), 4);
  EXPECT_EQ(adapter.at("base_model_name_or_path"), f.model.string());
  const auto tensors = safetensors::File::open(run / "adapter_model.safetensors");
  EXPECT_NE(tensors.find("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"), nullptr);
  EXPECT_NE(tensors.find("base_model.model.model.layers.1.mlp.down_proj.lora_B.weight"), nullptr);

  // The tokenizer files, and the exact template used, also inside tokenizer_config.json.
  EXPECT_EQ(read_file(run / "tokenizer.json"), read_file(f.model / "tokenizer.json"));
  EXPECT_EQ(read_file(run / "chat_template.jinja"), chat::builtin_template("chatml"));
  EXPECT_EQ(read_json_file(run / "tokenizer_config.json").at("chat_template"), chat::builtin_template("chatml"));
  EXPECT_EQ(read_json_file(run / "tokenizer_config.json").at("eos_token"), "<|im_end|>");

  // metrics.jsonl: one object per logged step (2, 4, 6), eval_loss on evaluation steps (3, 6).
  std::vector<Json> lines;
  const std::string metrics = read_file(run / "metrics.jsonl");
  for (size_t b = 0, e; b < metrics.size(); b = e + 1) {
    e = metrics.find('\n', b);
    lines.push_back(parse_json(metrics.substr(b, e - b), "metrics.jsonl"));
  }
  ASSERT_EQ(lines.size(), 4u);
  std::vector<int> steps, eval_steps;
  for (const auto& l : lines) {
    steps.push_back(l.at("step").get<int>());
    if (l.contains("eval_loss")) eval_steps.push_back(l.at("step").get<int>());
    if (l.contains("loss")) {
      for (const char* key : {"epoch", "loss", "lr", "grad_norm", "tokens_per_s"}) EXPECT_TRUE(l.at(key).is_number()) << key;
    }
  }
  EXPECT_EQ(steps, (std::vector<int>{2, 3, 4, 6}));
  EXPECT_EQ(eval_steps, (std::vector<int>{3, 6}));

  // loss.svg: well-formed, one point per logged train loss and per evaluation.
  const std::string svg = read_file(run / "loss.svg");
  std::string why;
  EXPECT_TRUE(well_formed_xml(svg, why)) << why;
  EXPECT_EQ(polyline_points(svg, "train"), 3u);
  EXPECT_EQ(polyline_points(svg, "validation"), 2u);
  EXPECT_NE(svg.find(">step</text>"), std::string::npos);
  EXPECT_NE(svg.find(">loss</text>"), std::string::npos);

  // The resolved configuration reads back with the overrides applied.
  const YAML::Node resolved = YAML::LoadFile((run / "train_config.yaml").string());
  EXPECT_EQ(resolved["max_steps"].as<int>(), 6);
  EXPECT_EQ(resolved["lora"]["r"].as<int>(), 4);
  EXPECT_TRUE(std::filesystem::is_regular_file(run / "checkpoint-6" / "trainer_state.json"));
}

TEST(TrainCli, KilledAndResumedRunEndsBitIdentical) {
  Fixture f;
  const std::string settings = "--set max_steps=120 --set save_steps=5 --set lora.lora_dropout=0.1";
  const auto reference = run_slmtune(f.train(settings + " --set output_dir=" + shell_quote(f.dir / "reference")));
  ASSERT_EQ(reference.exit_code, 0) << reference.err;

  const auto killed_dir = f.dir / "killed";
  const std::string command = std::string("exec '") + SLMTUNE_BINARY + "' " + f.train(settings + " --set output_dir=" + shell_quote(killed_dir)) +
                              " >/dev/null 2>/dev/null";
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  // Kill it as soon as its second checkpoint is complete, mid-run.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!std::filesystem::exists(killed_dir / "checkpoint-10" / "trainer_state.json") && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the run ended before it could be killed; make it longer";
  ASSERT_FALSE(std::filesystem::exists(killed_dir / "adapter_model.safetensors"));

  const auto resumed = run_slmtune(f.train(settings + " --set output_dir=" + shell_quote(killed_dir) + " --resume"));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("resuming from"), std::string::npos) << resumed.err;
  EXPECT_EQ(read_file(killed_dir / "adapter_model.safetensors"), read_file(f.dir / "reference" / "adapter_model.safetensors"));

  // A checkpoint of another rank is refused with one line naming the difference.
  const auto other = run_slmtune("-q " + f.train(settings + " --set output_dir=" + shell_quote(killed_dir) + " --set lora.r=8 --resume"));
  expect_one_line_error(other, "r is 4 there but 8 here");
}

TEST(TrainCli, NonFiniteLossStopsNamingTheStepAndTheKeptCheckpoint) {
  Fixture f;
  const auto r = run_slmtune(f.train("--set max_steps=20 --set save_steps=1 --set learning_rate=1e30 --set max_grad_norm=0 "
                                     "--set lr_scheduler_type=constant"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(r.out.empty()) << r.out;
  const std::string last_line = r.err.substr(r.err.rfind('\n', r.err.size() - 2) + 1);
  EXPECT_TRUE(last_line.starts_with("error: step ")) << r.err;
  EXPECT_NE(last_line.find("learning rate 1e+30"), std::string::npos) << last_line;
  EXPECT_NE(last_line.find("checkpoint-"), std::string::npos) << last_line;
  EXPECT_FALSE(std::filesystem::exists(f.dir / "run" / "adapter_model.safetensors"));
}

TEST(TrainCli, BadSettingsAreOneLine) {
  Fixture f;
  expect_one_line_error(run_slmtune(f.train("--set lora.target_modules=[q_proj,qproj]")), "qproj");
  expect_one_line_error(run_slmtune(f.train("--set lora.r=0")), "lora.r");
  expect_one_line_error(run_slmtune(f.train("--set learning_rat=1")), "did you mean 'learning_rate'");
  write_text(f.dir / "empty.jsonl", "");
  expect_one_line_error(run_slmtune(f.train("--set data.train=" + shell_quote(f.dir / "empty.jsonl"))), "empty");
  expect_one_line_error(run_slmtune(f.train("--resume " + shell_quote(f.dir / "nowhere"))), "no checkpoint");
  // A finished run is not overwritten by a fresh one.
  ASSERT_EQ(run_slmtune(f.train("--set max_steps=1")).exit_code, 0);
  expect_one_line_error(run_slmtune(f.train("--set max_steps=1")), "already holds a run (checkpoint-1)");
}

TEST(TrainCli, FullFineTuningWritesAModelFolder) {
  Fixture f;
  const auto r = run_slmtune(f.train("--set max_steps=2 --set method=full --set learning_rate=1e-4"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::is_regular_file(f.dir / "run" / "model.safetensors"));
  EXPECT_TRUE(std::filesystem::is_regular_file(f.dir / "run" / "config.json"));
  const auto generated = run_slmtune("generate " + shell_quote(f.dir / "run") + " --prompt 'What color' --max-tokens 3");
  EXPECT_EQ(generated.exit_code, 0) << generated.err;
}

TEST(TrainCli, HelpTeaches) {
  const auto r = run_slmtune("train --help");
  EXPECT_EQ(r.exit_code, 0);
  for (const char* fragment : {"--set", "--resume", "--adapter", "docs/config.md", "Examples"})
    EXPECT_NE(r.out.find(fragment), std::string::npos) << fragment;
}

TEST(TrainCli, FoldsReportMeanAndStdOfEveryMetric) {
  Fixture f;
  const auto r = run_slmtune(f.train("--set max_steps=2 --folds 3"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json folds = read_json_file(f.dir / "run" / "folds.json");
  ASSERT_EQ(folds.at("folds").size(), 3u);
  std::vector<double> losses;
  for (int k = 0; k < 3; ++k) {
    EXPECT_TRUE(std::filesystem::is_regular_file(f.dir / "run" / fmt::format("fold-{}", k) / "adapter_model.safetensors"));
    losses.push_back(folds.at("folds")[static_cast<size_t>(k)].at("eval_loss").get<double>());
  }
  const double mean = (losses[0] + losses[1] + losses[2]) / 3;
  double ss = 0;
  for (double l : losses) ss += (l - mean) * (l - mean);
  EXPECT_NEAR(folds.at("summary").at("eval_loss").at("mean").get<double>(), mean, 1e-12);
  EXPECT_NEAR(folds.at("summary").at("eval_loss").at("std").get<double>(), std::sqrt(ss / 2), 1e-12);
  EXPECT_NE(r.out.find("eval_loss"), std::string::npos);
  EXPECT_NE(r.out.find("± "), std::string::npos);
}

// The article's function-calling CSV (examples/maritime: function_definitions, user_query,
// function_call, gps) with the system prompt's {{ gps }} filled per row, scored by the eval module
// at each evaluation (task_metrics).
TEST(TrainCli, FunctionCallingCsvWithTaskMetrics) {
  Fixture f;
  const auto data = slmtune::testing::source_dir() / "examples" / "maritime";
  // A vocabulary that knows the maritime text keeps its rows within the tiny model's context.
  auto tok = run_slmtune("tokenizer train --vocab-size 500 --special '<|endoftext|>' --special '<|im_start|>' "
                         "--special '<|im_end|>' -o " + shell_quote(f.model / "tokenizer.json") + " " +
                         shell_quote(data / "data" / "train.csv"));
  ASSERT_EQ(tok.exit_code, 0) << tok.err;
  const std::string settings = "--set data.train=" + shell_quote(data / "data" / "train.csv") +
                               " --set data.validation=" + shell_quote(data / "data" / "validation.csv") +
                               " --set data.system_prompt=" + shell_quote(data / "system_prompt.txt") +
                               " --set max_steps=2 --set task_metrics=true --set task_max_new_tokens=4";
  const auto r = run_slmtune(f.train(settings));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("eval_loss"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("eval_exact_match"), std::string::npos) << r.out;
  const std::string metrics = read_file(f.dir / "run" / "metrics.jsonl");
  const Json last = parse_json(metrics.substr(metrics.rfind('\n', metrics.size() - 2) + 1), "metrics.jsonl");
  EXPECT_EQ(last.at("eval_n").get<int>(), 15);  // every validation row generated and scored

  // A row that breaks its schema: every row error is listed, then one line refuses the file.
  const std::string csv = read_file(data / "data" / "validation.csv");
  const size_t second_row = csv.find("\n\"[{") + 1;
  std::string broken = csv.substr(0, csv.find("\n\"[{", second_row) + 1);  // header + 1 row
  const size_t call = broken.rfind("categorize_emergency");
  broken.replace(call, std::string("categorize_emergency").size(), "no_such_function");
  write_text(f.dir / "broken.csv", broken);
  const auto bad = run_slmtune(f.train("--set data.train=" + shell_quote(f.dir / "broken.csv") + " --set output_dir=" +
                                       shell_quote(f.dir / "other")));
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("no_such_function"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("rows have errors"), std::string::npos) << bad.err;
}

TEST(TrainCli, ContinuesTrainingAPeftAdapter) {
  Fixture f;
  const auto quiet = run_slmtune("-q " + f.train("--set max_steps=2"));
  ASSERT_EQ(quiet.exit_code, 0);
  EXPECT_EQ(quiet.err, "");  // -q: no progress, no log lines
  // A learning rate too small to move anything: the result must be the first run's adapter, not a
  // fresh one (whose B would be zero).
  const auto r = run_slmtune(f.train("--set max_steps=2 --set learning_rate=1e-12 --set output_dir=" + shell_quote(f.dir / "more") +
                                     " --adapter " + shell_quote(f.dir / "run")));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("continuing from the adapter"), std::string::npos) << r.err;
  const auto first = safetensors::File::open(f.dir / "run" / "adapter_model.safetensors");
  const auto second = safetensors::File::open(f.dir / "more" / "adapter_model.safetensors");
  const std::string name = "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight";
  const auto before = first.tensor(name).to_f32_vector(), after = second.tensor(name).to_f32_vector();
  ASSERT_EQ(before.size(), after.size());
  float largest = 0;
  for (size_t i = 0; i < before.size(); ++i) {
    EXPECT_NEAR(before[i], after[i], 1e-6f);
    largest = std::max(largest, std::abs(before[i]));
  }
  EXPECT_GT(largest, 1e-4f);
  EXPECT_EQ(read_json_file(f.dir / "more" / "adapter_config.json").at("r"), 4);
}
