#include "chat/jinja/string_ops.hpp"

#include <algorithm>

#include "chat/jinja/template_error.hpp"
#include "chat/jinja/utf8.hpp"

namespace slmtune::jinja {

std::string strip(const std::string& s, const std::string* chars, bool left, bool right) {
  const auto cps = utf8::decode(s);
  std::vector<uint32_t> set;
  if (chars) set = utf8::decode(*chars);
  auto strippable = [&](uint32_t c) {
    return chars ? std::find(set.begin(), set.end(), c) != set.end() : utf8::is_space(c);
  };
  size_t begin = 0, end = cps.size();
  if (left)
    while (begin < end && strippable(cps[begin])) ++begin;
  if (right)
    while (end > begin && strippable(cps[end - 1])) --end;
  if (begin == 0 && end == cps.size()) return s;
  return utf8::encode(std::vector<uint32_t>(cps.begin() + static_cast<std::ptrdiff_t>(begin),
                                            cps.begin() + static_cast<std::ptrdiff_t>(end)));
}

std::vector<std::string> split(const std::string& s, const std::string* sep, int64_t maxsplit, bool from_right) {
  std::vector<std::string> out;
  if (sep) {
    if (sep->empty()) raise("ValueError", "empty separator");
    if (!from_right) {
      size_t start = 0;
      while (maxsplit < 0 || static_cast<int64_t>(out.size()) < maxsplit) {
        const size_t at = s.find(*sep, start);
        if (at == std::string::npos) break;
        out.push_back(s.substr(start, at - start));
        start = at + sep->size();
      }
      out.push_back(s.substr(start));
      return out;
    }
    size_t end = s.size();
    int64_t splits = 0;
    while (maxsplit < 0 || splits < maxsplit) {
      if (end < sep->size()) break;
      const size_t at = s.rfind(*sep, end - sep->size());
      if (at == std::string::npos) break;
      out.push_back(s.substr(at + sep->size(), end - at - sep->size()));
      end = at;
      ++splits;
    }
    out.push_back(s.substr(0, end));
    std::reverse(out.begin(), out.end());
    return out;
  }
  // Whitespace splitting drops empty pieces; once maxsplit is reached the rest is kept whole
  // (without its leading whitespace).
  const auto cps = utf8::decode(s);
  std::vector<std::pair<size_t, size_t>> words;
  size_t i = 0;
  while (i < cps.size()) {
    while (i < cps.size() && utf8::is_space(cps[i])) ++i;
    if (i >= cps.size()) break;
    size_t j = i;
    while (j < cps.size() && !utf8::is_space(cps[j])) ++j;
    words.emplace_back(i, j);
    i = j;
  }
  auto text = [&](size_t a, size_t b) {
    return utf8::encode(std::vector<uint32_t>(cps.begin() + static_cast<std::ptrdiff_t>(a), cps.begin() + static_cast<std::ptrdiff_t>(b)));
  };
  if (maxsplit < 0 || static_cast<size_t>(maxsplit) >= words.size()) {
    for (auto [a, b] : words) out.push_back(text(a, b));
    return out;
  }
  const auto limit = static_cast<size_t>(maxsplit);
  if (!from_right) {
    for (size_t k = 0; k < limit; ++k) out.push_back(text(words[k].first, words[k].second));
    out.push_back(text(words[limit].first, cps.size()));
    return out;
  }
  const size_t keep = words.size() - limit;
  out.push_back(text(0, words[keep - 1].second));
  for (size_t k = keep; k < words.size(); ++k) out.push_back(text(words[k].first, words[k].second));
  return out;
}

std::string to_upper(const std::string& s) {
  if (utf8::is_ascii(s)) {
    std::string out = s;
    for (char& c : out)
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
    return out;
  }
  auto cps = utf8::decode(s);
  std::string out;
  for (uint32_t c : cps) {
    if (c == 0xDF) out += "SS";  // ß has no one-letter capital in Python's mapping
    else utf8::append(out, utf8::to_upper(c));
  }
  return out;
}

std::string to_lower(const std::string& s) {
  if (utf8::is_ascii(s)) {
    std::string out = s;
    for (char& c : out)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    return out;
  }
  auto cps = utf8::decode(s);
  for (auto& c : cps) c = utf8::to_lower(c);
  return utf8::encode(cps);
}

std::string python_title(const std::string& s) {
  auto cps = utf8::decode(s);
  bool previous_cased = false;
  for (auto& c : cps) {
    const bool cased = utf8::to_upper(c) != c || utf8::to_lower(c) != c;
    if (cased) c = previous_cased ? utf8::to_lower(c) : utf8::to_upper(c);
    previous_cased = cased;
  }
  return utf8::encode(cps);
}

std::string capitalize(const std::string& s) {
  auto cps = utf8::decode(s);
  for (size_t i = 0; i < cps.size(); ++i) cps[i] = i == 0 ? utf8::to_upper(cps[i]) : utf8::to_lower(cps[i]);
  return utf8::encode(cps);
}

std::string jinja_title(const std::string& s) {
  auto cps = utf8::decode(s);
  auto is_break = [](uint32_t c) { return utf8::is_space(c) || c == '-' || c == '(' || c == '{' || c == '[' || c == '<'; };
  bool word_start = true;
  for (auto& c : cps) {
    if (is_break(c)) {
      word_start = true;
      continue;
    }
    c = word_start ? utf8::to_upper(c) : utf8::to_lower(c);
    word_start = false;
  }
  return utf8::encode(cps);
}

std::string replace(const std::string& s, const std::string& old_text, const std::string& new_text, int64_t count,
                    size_t max_bytes) {
  std::string out;
  int64_t done = 0;
  auto check = [&] {
    if (out.size() > max_bytes) raise("SecurityError", "a string exceeds the size limit");
  };
  if (old_text.empty()) {
    const auto bounds = utf8::boundaries(s);
    for (size_t i = 0; i + 1 < bounds.size(); ++i) {
      if (count < 0 || done < count) {
        out += new_text;
        ++done;
      }
      out.append(s, bounds[i], bounds[i + 1] - bounds[i]);
      check();
    }
    if (count < 0 || done < count) out += new_text;
    check();
    return out;
  }
  size_t start = 0;
  while (count < 0 || done < count) {
    const size_t at = s.find(old_text, start);
    if (at == std::string::npos) break;
    out.append(s, start, at - start);
    out += new_text;
    check();
    start = at + old_text.size();
    ++done;
  }
  out.append(s, start, std::string::npos);
  check();
  return out;
}

int64_t count_occurrences(const std::string& s, const std::string& sub) {
  if (sub.empty()) return static_cast<int64_t>(utf8::length(s)) + 1;
  int64_t n = 0;
  for (size_t at = s.find(sub); at != std::string::npos; at = s.find(sub, at + sub.size())) ++n;
  return n;
}

size_t code_point_offset(const std::string& s, size_t byte_offset) {
  return utf8::length(std::string_view(s).substr(0, byte_offset));
}

std::string html_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

bool char_class(const std::string& s, std::string_view predicate) {
  const auto cps = utf8::decode(s);
  if (cps.empty()) return false;
  bool any_cased = false;
  for (uint32_t c : cps) {
    const bool upper = utf8::to_lower(c) != c;
    const bool lower = utf8::to_upper(c) != c;
    any_cased = any_cased || upper || lower;
    if (predicate == "isdigit" && !(c >= '0' && c <= '9')) return false;
    if (predicate == "isalpha" && !utf8::is_alpha(c)) return false;
    if (predicate == "isalnum" && !utf8::is_alpha(c) && !(c >= '0' && c <= '9')) return false;
    if (predicate == "isspace" && !utf8::is_space(c)) return false;
    if (predicate == "islower" && upper) return false;
    if (predicate == "isupper" && lower) return false;
  }
  if (predicate == "islower" || predicate == "isupper") return any_cased;
  return true;
}

}  // namespace slmtune::jinja

namespace slmtune::jinja {
std::vector<std::string> splitlines(const std::string& s) {
  std::vector<std::string> out;
  const auto cps = utf8::decode(s);
  std::vector<uint32_t> line;
  for (size_t i = 0; i < cps.size(); ++i) {
    const uint32_t c = cps[i];
    const bool brk = c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || (c >= 0x1C && c <= 0x1E) || c == 0x85 ||
                     c == 0x2028 || c == 0x2029;
    if (!brk) {
      line.push_back(c);
      continue;
    }
    if (c == '\r' && i + 1 < cps.size() && cps[i + 1] == '\n') ++i;
    out.push_back(utf8::encode(line));
    line.clear();
  }
  if (!line.empty()) out.push_back(utf8::encode(line));
  return out;
}
}  // namespace slmtune::jinja
