#pragma once
// Python's str operations over UTF-8, shared by the string methods and the filters.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace slmtune::jinja {

// str.strip/lstrip/rstrip: whitespace when `chars` is null, else any of its code points.
std::string strip(const std::string& s, const std::string* chars, bool left, bool right);
// str.split/rsplit: on runs of whitespace when `sep` is null; `maxsplit` < 0 means no limit.
std::vector<std::string> split(const std::string& s, const std::string* sep, int64_t maxsplit, bool from_right);
std::string to_upper(const std::string& s);
std::string to_lower(const std::string& s);
std::string python_title(const std::string& s);  // str.title
std::string jinja_title(const std::string& s);   // the `title` filter: words split at spaces, -, (, {, [, <
std::string capitalize(const std::string& s);    // str.capitalize
// str.replace; fails with SecurityError when the result would pass `max_bytes`.
std::string replace(const std::string& s, const std::string& old_text, const std::string& new_text, int64_t count,
                    size_t max_bytes);
int64_t count_occurrences(const std::string& s, const std::string& sub);
size_t code_point_offset(const std::string& s, size_t byte_offset);
// markupsafe.escape: & < > " ' as HTML entities.
std::string html_escape(const std::string& s);
bool char_class(const std::string& s, std::string_view predicate);  // isdigit, isalpha, isspace...

}  // namespace slmtune::jinja

namespace slmtune::jinja {
// str.splitlines(): breaks at \n, \r\n, \r, \v, \f, \x1c-\x1e, \x85, \u2028 and \u2029.
std::vector<std::string> splitlines(const std::string& s);
}  // namespace slmtune::jinja
