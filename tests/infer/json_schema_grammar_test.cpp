// The schema matcher of constrained decoding against two independent judges: nlohmann-json (does the
// text parse?) and functions::validate_value (does the value fit the schema?). Hand-picked texts for
// each rule, then a property over thousands of one-byte mutations of valid texts: whatever the matcher
// accepts as complete must parse and validate.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "formats/json.hpp"
#include "functions/function_schema.hpp"
#include "infer/json_schema_grammar.hpp"
#include "support/test_support.hpp"

namespace slmtune::infer {
namespace {

// Feeds `text` to a fresh matcher: whether every byte was taken, and whether the value is complete.
struct Outcome {
  bool taken = true;
  bool complete = false;
};
Outcome run(const CompiledSchema& schema, const std::string& text) {
  SchemaMatcher matcher(&schema);
  Outcome out;
  for (char c : text) {
    if (!matcher.feed(static_cast<unsigned char>(c))) {
      out.taken = false;
      return out;
    }
  }
  out.complete = matcher.complete();
  return out;
}
bool accepts(const CompiledSchema& schema, const std::string& text) {
  const Outcome o = run(schema, text);
  return o.taken && o.complete;
}

// What the independent judges say of `text` under `schema`.
bool valid(const Json& schema, const std::string& text) {
  try {
    return functions::validate_value(schema, parse_json(text, "text"), "").empty();
  } catch (const Error&) {
    return false;
  }
}

Json maritime_parameters(const std::string& function) {
  const Json defs = read_json_file(testing::source_dir() / "examples/maritime/functions.json");
  for (const auto& def : functions::parse_function_definitions(defs, "functions.json"))
    if (def.name == function) return def.parameters;
  throw Error("no function " + function);
}

const char* const kNested = R"({
  "type": "object",
  "properties": {
    "id": {"type": "integer"},
    "ratio": {"type": "number"},
    "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b", "é"]}},
    "flag": {"type": "boolean"},
    "note": {"type": ["string", "null"]},
    "meta": {"type": "object", "additionalProperties": {"type": "integer"}},
    "pick": {"anyOf": [{"type": "integer"}, {"type": "string", "enum": ["x"]}]},
    "any": {}
  },
  "required": ["id", "tags"]
})";

TEST(SchemaMatcher, TakesTheCallsOfTheMaritimeFunctionsAsModelsWriteThem) {
  const Json schema = maritime_parameters("broadcast_emergency_message");
  const CompiledSchema compiled = CompiledSchema::compile(schema);
  const std::vector<std::string> good = {
      R"({"location": "42.3541N, 71.0654W", "emergency_detail": "Fire", "emergency_type": "Mayday"})",
      R"({"emergency_type": "Securité", "emergency_detail": "Lost Navigation", "location": "x"})",
      R"({"emergency_type": "Securit\u00e9", "emergency_detail": "Adrift", "location": "\"q\" \u00e9 \n"})",
      "{\n  \"location\": \"a\",\n  \"emergency_detail\": \"Man Overboard\",\n  \"emergency_type\": \"PAN-PAN\"\n}",
      R"(  {"location":"a","emergency_detail":"Flooding","emergency_type":"Mayday"})",
  };
  for (const auto& text : good) {
    EXPECT_TRUE(valid(schema, text)) << text;
    EXPECT_TRUE(accepts(compiled, text)) << text;
  }
}

TEST(SchemaMatcher, RefusesWhatBreaksTheJsonOrTheSchema) {
  const Json schema = maritime_parameters("broadcast_emergency_message");
  const CompiledSchema compiled = CompiledSchema::compile(schema);
  const std::vector<std::string> bad = {
      // the bundled model's malformed call: a comma where the colon goes
      R"({"location": "a", "emergency_detail": "Fire", "emergency_type", "Mayday"})",
      R"({"location": "a", "emergency_detail": "Smoke", "emergency_type": "Mayday"})",   // not in the enum
      R"({"location": "a", "emergency_detail": "Fire"})",                                // required missing
      R"({"location": "a", "emergency_detail": "Fire", "emergency_type": "Mayday", "x": 1})",  // unknown
      R"({"location": "a", "location": "b", "emergency_detail": "Fire", "emergency_type": "Mayday"})",
      R"({"location": "a", "emergency_detail": "Fire", "emergency_type": "Mayday",})",   // trailing comma
      R"({"location": 5, "emergency_detail": "Fire", "emergency_type": "Mayday"})",      // not a string
      R"({"location": "a\q", "emergency_detail": "Fire", "emergency_type": "Mayday"})",  // bad escape
      R"({"location": "\ud800", "emergency_detail": "Fire", "emergency_type": "Mayday"})",  // lone surrogate
      R"({"location": "\udc00\ud800", "emergency_detail": "Fire", "emergency_type": "Mayday"})",
      "{\"location\": \"a\xC3\", \"emergency_detail\": \"Fire\", \"emergency_type\": \"Mayday\"}",  // cut UTF-8
      "{\"location\": \"a\xED\xA0\x80\", \"emergency_detail\": \"Fire\", \"emergency_type\": \"Mayday\"}",
      "{\"location\": \"a\tb\", \"emergency_detail\": \"Fire\", \"emergency_type\": \"Mayday\"}",  // raw tab
      std::string("{") + std::string(40, ' ') + "\"location\": \"a\"}",  // whitespace without end
  };
  for (const auto& text : bad) {
    EXPECT_FALSE(accepts(compiled, text)) << text;
    // Two runs of the matcher are stricter than the validator: whitespace has a bound, and a key given
    // twice is refused where JSON keeps the last.
    if (text.find(std::string(40, ' ')) == std::string::npos && text.find("\"location\": \"b\"") == std::string::npos) {
      EXPECT_FALSE(valid(schema, text)) << text;
    }
  }
  // The malformed call is refused at the comma, where a greedy model would go wrong.
  const std::string malformed = R"({"location": "a", "emergency_detail": "Fire", "emergency_type",)";
  SchemaMatcher matcher(&compiled);
  for (size_t i = 0; i + 1 < malformed.size(); ++i) ASSERT_TRUE(matcher.feed(static_cast<unsigned char>(malformed[i])));
  EXPECT_FALSE(SchemaMatcher(matcher).feed(','));
  EXPECT_TRUE(SchemaMatcher(matcher).feed(':'));
}

TEST(SchemaMatcher, FollowsNestedTypesNumbersUnionsAndOpenObjects) {
  const Json schema = parse_json(kNested, "schema");
  const CompiledSchema compiled = CompiledSchema::compile(schema);
  const std::vector<std::string> good = {
      R"({"id": 3, "tags": []})",
      R"({"tags": ["a", "é", "b"], "id": -0, "ratio": -1.5e+3, "flag": false, "note": null})",
      R"({"id": 10, "tags": ["\u00e9"], "note": "n", "meta": {"k": 1, "other": -20}, "pick": "x"})",
      R"({"id": 1, "tags": [], "pick": 7, "any": [1, "two", {}, [null], true]})",
      R"({"id": 1, "tags": [], "ratio": 0.25, "any": -3.5E-2})",
      R"({"id": 1, "tags": [], "ratio": 1e99, "any": 12.5e-07})",
  };
  for (const auto& text : good) {
    EXPECT_TRUE(valid(schema, text)) << text;
    EXPECT_TRUE(accepts(compiled, text)) << text;
  }
  const std::vector<std::string> bad = {
      R"({"id": 1.5, "tags": []})",     // integer
      R"({"id": 01, "tags": []})",      // leading zero
      R"({"id": 1, "tags": ["c"]})",    // enum item
      R"({"id": 1, "tags": [,]})",
      R"({"id": 1, "tags": [], "meta": {"k": "v"}})",  // additional properties are integers
      R"({"id": 1, "tags": [], "pick": "y"})",
      R"({"id": 1, "tags": [], "flag": tru})",
      R"({"id": 1, "tags": [], "ratio": 1.})",
      R"({"id": 1, "tags": [], "ratio": -})",
      R"({"id": 1, "tags": [], "ratio": 1e99999})",  // a parser refuses the overflow
      R"({"id": 1})",
      R"({"id": 1, "tags": [], "any": {"deep": 1}})",  // an empty schema lists no key (as the validator)
  };
  for (const auto& text : bad) {
    EXPECT_FALSE(accepts(compiled, text)) << text;
    EXPECT_FALSE(valid(schema, text)) << text;
  }
  // A number may go on after its last digit; a closed object may not.
  Outcome number = run(CompiledSchema::compile(parse_json(R"({"type": "integer"})", "s")), "12");
  EXPECT_TRUE(number.taken && number.complete);
  EXPECT_TRUE(accepts(CompiledSchema::compile(parse_json(R"({"type": "integer"})", "s")), "123"));
}

TEST(SchemaMatcher, SchemaThatNothingSatisfiesTakesNothing) {
  const CompiledSchema never = CompiledSchema::compile(Json(false));
  EXPECT_FALSE(run(never, "1").taken);
  // Required but neither listed nor allowed as an additional property: the object can never close.
  const CompiledSchema closed = CompiledSchema::compile(parse_json(R"({"type": "object", "required": ["a"]})", "s"));
  EXPECT_FALSE(accepts(closed, "{}"));
  EXPECT_TRUE(run(closed, R"({"a":)").taken);
  EXPECT_FALSE(run(closed, R"({"a": 1)").taken);
}

// The property: a one-byte edit of a valid text that the matcher takes whole is valid too.
TEST(SchemaMatcher, EverythingItAcceptsParsesAndValidates) {
  const std::vector<Json> schemas = {maritime_parameters("broadcast_emergency_message"),
                                     maritime_parameters("categorize_emergency"), parse_json(kNested, "schema")};
  const std::vector<std::vector<std::string>> seeds = {
      {R"({"location": "4\"2.3N", "emergency_detail": "Fire", "emergency_type": "Securité"})",
       R"({"emergency_type": "PAN-PAN","emergency_detail":"Adrift","location":"\u00e9\n"})"},
      {R"({"emergency_detail": "Medical Emergency"})", R"({ "emergency_detail" : "Engine Failure" })"},
      {R"({"tags": ["a", "é"], "id": -10, "ratio": 2.5e-3, "flag": true, "note": null, "meta": {"k": 1}})",
       R"({"id": 0, "tags": [], "pick": "x", "any": [{}, [null, false, 1.0], "s"]})"}};
  const std::string alphabet = "{}[]\":,. -+0123456789eEtrufalsn\\u\xC3\xA9\x80xabdcFS";
  Rng rng(7);
  int accepted = 0, edits = 0;
  for (size_t s = 0; s < schemas.size(); ++s) {
    const CompiledSchema compiled = CompiledSchema::compile(schemas[s]);
    for (const auto& seed : seeds[s]) {
      ASSERT_TRUE(accepts(compiled, seed)) << seed;
      for (int trial = 0; trial < 3000; ++trial) {
        const std::string text = testing::one_byte_edit(seed, rng, alphabet);
        ++edits;
        if (!accepts(compiled, text)) continue;
        ++accepted;
        EXPECT_TRUE(valid(schemas[s], text)) << "accepted but invalid: " << text;
      }
    }
  }
  // Some edits keep the text valid (a digit for a digit, a letter inside a string): the property is
  // exercised on both sides.
  EXPECT_GT(accepted, edits / 20);
  EXPECT_LT(accepted, edits / 2);
}

}  // namespace
}  // namespace slmtune::infer
