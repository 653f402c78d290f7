#include "tokenizer/post_processors.hpp"

#include "core/error.hpp"
#include "tokenizer/json_access.hpp"

namespace slmtune::tokenizer {

namespace {

class Template final : public PostProcessor {
 public:
  // A template item: a run of special ids, or a slot for sequence A (0) or B (1).
  struct Item {
    std::vector<TokenId> ids;
    int sequence = -1;
  };
  Template(std::vector<Item> single, std::vector<Item> pair) : single_(std::move(single)), pair_(std::move(pair)) {}
  std::vector<TokenId> process(std::vector<TokenId> a, const std::vector<TokenId>* b) const override {
    std::vector<TokenId> out;
    for (const Item& item : b ? pair_ : single_) {
      if (item.sequence == 0) out.insert(out.end(), a.begin(), a.end());
      else if (item.sequence == 1 && b) out.insert(out.end(), b->begin(), b->end());
      else out.insert(out.end(), item.ids.begin(), item.ids.end());
    }
    return out;
  }
  size_t added_count(bool is_pair) const override {
    size_t count = 0;
    for (const Item& item : is_pair ? pair_ : single_) count += item.ids.size();
    return count;
  }

 private:
  std::vector<Item> single_, pair_;
};

class Identity final : public PostProcessor {
 public:
  std::vector<TokenId> process(std::vector<TokenId> a, const std::vector<TokenId>* b) const override {
    if (b) a.insert(a.end(), b->begin(), b->end());
    return a;
  }
  size_t added_count(bool) const override { return 0; }
};

class Sequence final : public PostProcessor {
 public:
  explicit Sequence(std::vector<std::unique_ptr<PostProcessor>> steps) : steps_(std::move(steps)) {}
  std::vector<TokenId> process(std::vector<TokenId> a, const std::vector<TokenId>* b) const override {
    // Only the first step may see the pair; later steps see the combined sequence.
    bool first = true;
    for (const auto& step : steps_) {
      a = step->process(std::move(a), first ? b : nullptr);
      first = false;
    }
    if (steps_.empty() && b) a.insert(a.end(), b->begin(), b->end());
    return a;
  }
  size_t added_count(bool is_pair) const override {
    size_t count = 0;
    for (const auto& step : steps_) count += step->added_count(is_pair);
    return count;
  }

 private:
  std::vector<std::unique_ptr<PostProcessor>> steps_;
};

std::vector<Template::Item> parse_template(const JsonValue& items, const std::string& path,
                                           const std::map<std::string, std::vector<TokenId>>& specials) {
  if (!items.is_array()) fail("{}: expected an array of template pieces", path);
  std::vector<Template::Item> out;
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string where = fmt::format("{}[{}]", path, i);
    const JsonValue& item = items[i];
    if (item.is_object() && item.contains("Sequence")) {
      const std::string id = json_string(item["Sequence"], "id", where + ".Sequence");
      if (id != "A" && id != "B") fail("{}.Sequence.id: expected A or B, found '{}'", where, id);
      out.push_back({{}, id == "A" ? 0 : 1});
    } else if (item.is_object() && item.contains("SpecialToken")) {
      const std::string id = json_string(item["SpecialToken"], "id", where + ".SpecialToken");
      const auto it = specials.find(id);
      if (it == specials.end()) fail("{}.SpecialToken.id: '{}' is not listed in special_tokens", where, id);
      out.push_back({it->second, -1});
    } else {
      fail("{}: expected {{\"Sequence\": ...}} or {{\"SpecialToken\": ...}}", where);
    }
  }
  return out;
}

}  // namespace

std::unique_ptr<PostProcessor> bos_eos_post_processor(std::optional<TokenId> bos, std::optional<TokenId> eos) {
  std::vector<Template::Item> single, pair;
  if (bos) single.push_back({{*bos}, -1});
  single.push_back({{}, 0});
  if (eos) single.push_back({{*eos}, -1});
  pair = single;
  if (bos) pair.push_back({{*bos}, -1});
  pair.push_back({{}, 1});
  if (eos) pair.push_back({{*eos}, -1});
  return std::make_unique<Template>(std::move(single), std::move(pair));
}

std::unique_ptr<PostProcessor> make_post_processor(const JsonValue& spec, const std::string& path,
                                                   const std::function<std::optional<TokenId>(const std::string&)>& lookup) {
  const std::string type = json_string(spec, "type", path);
  if (type == "TemplateProcessing") {
    std::map<std::string, std::vector<TokenId>> specials;
    const JsonValue& table = json_member(spec, "special_tokens", path);
    if (!table.is_object()) fail("{}.special_tokens: expected an object", path);
    for (const auto& [name, entry] : table.items()) {
      const std::string where = fmt::format("{}.special_tokens.{}", path, name);
      const JsonValue& ids = json_array(entry, "ids", where);
      std::vector<TokenId> list;
      for (const auto& id : ids) {
        if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX) fail("{}.ids: expected token ids", where);
        list.push_back(static_cast<TokenId>(id.get<int64_t>()));
      }
      specials[name] = std::move(list);
    }
    return std::make_unique<Template>(parse_template(json_member(spec, "single", path), path + ".single", specials),
                                      parse_template(json_member(spec, "pair", path), path + ".pair", specials));
  }
  if (type == "ByteLevel") return std::make_unique<Identity>();
  if (type == "RobertaProcessing" || type == "BertProcessing") {
    const auto special = [&](const char* key) {
      const JsonValue& pair = json_member(spec, key, path);
      if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string()) fail("{}.{}: expected [token, id]", path, key);
      const auto id = lookup(pair[0].get<std::string>());
      if (!id) fail("{}.{}: token {:?} is not in the vocabulary", path, key, pair[0].get<std::string>());
      return *id;
    };
    const TokenId cls = special("cls"), sep = special("sep");
    std::vector<Template::Item> single{{{cls}, -1}, {{}, 0}, {{sep}, -1}};
    std::vector<Template::Item> pair{{{cls}, -1}, {{}, 0}, {{sep}, -1}};
    if (type == "RobertaProcessing") pair.push_back({{sep}, -1});
    pair.push_back({{}, 1});
    pair.push_back({{sep}, -1});
    return std::make_unique<Template>(std::move(single), std::move(pair));
  }
  if (type == "Sequence") {
    const JsonValue& items = json_array(spec, "processors", path);
    std::vector<std::unique_ptr<PostProcessor>> steps;
    for (size_t i = 0; i < items.size(); ++i)
      steps.push_back(make_post_processor(items[i], fmt::format("{}.processors[{}]", path, i), lookup));
    return std::make_unique<Sequence>(std::move(steps));
  }
  fail("{}: post-processor type '{}' is not supported (supported: TemplateProcessing, ByteLevel, RobertaProcessing, "
       "BertProcessing, Sequence)",
       path, type);
}

}  // namespace slmtune::tokenizer
