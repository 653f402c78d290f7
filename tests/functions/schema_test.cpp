// Argument validation against JSON Schema's documented semantics (json-schema.org "Understanding JSON
// Schema": type incl. integer vs number, enum, required, properties, items, numeric and length bounds,
// anyOf/oneOf), plus our stricter default of rejecting unknown properties.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "functions/function_call.hpp"
#include "functions/function_schema.hpp"

namespace slmtune::functions {
namespace {

Json j(const char* text) { return Json::parse(text); }
bool valid(const char* schema, const char* value) { return validate_value(j(schema), j(value), "x").empty(); }

TEST(Schema, IntegerVersusNumber) {
  // "integer": 1 and 1.0 are integers (zero fractional part), 1.5 is not; "number" takes all three.
  EXPECT_TRUE(valid(R"({"type":"integer"})", "1"));
  EXPECT_TRUE(valid(R"({"type":"integer"})", "1.0"));
  EXPECT_FALSE(valid(R"({"type":"integer"})", "1.5"));
  EXPECT_FALSE(valid(R"({"type":"integer"})", "\"1\""));
  EXPECT_TRUE(valid(R"({"type":"number"})", "1.5"));
  EXPECT_TRUE(valid(R"({"type":"number"})", "-7"));
  EXPECT_FALSE(valid(R"({"type":"number"})", "\"42\""));
  EXPECT_FALSE(valid(R"({"type":"number"})", "true"));
}

TEST(Schema, OtherTypesAndTypeLists) {
  EXPECT_TRUE(valid(R"({"type":"string"})", "\"a\""));
  EXPECT_FALSE(valid(R"({"type":"string"})", "1"));
  EXPECT_TRUE(valid(R"({"type":"boolean"})", "false"));
  EXPECT_FALSE(valid(R"({"type":"boolean"})", "0"));
  EXPECT_TRUE(valid(R"({"type":"null"})", "null"));
  EXPECT_FALSE(valid(R"({"type":"null"})", "false"));
  EXPECT_TRUE(valid(R"({"type":"array"})", "[]"));
  EXPECT_FALSE(valid(R"({"type":"object"})", "[]"));
  EXPECT_TRUE(valid(R"({"type":["string","null"]})", "null"));
  EXPECT_FALSE(valid(R"({"type":["string","null"]})", "3"));
  EXPECT_TRUE(valid(R"({})", "[1, {\"a\": 2}]"));  // an empty schema accepts anything
}

TEST(Schema, EnumAndConst) {
  const char* schema = R"({"type":"string","enum":["Mayday","PAN-PAN","Securité"]})";
  EXPECT_TRUE(valid(schema, "\"Securité\""));
  EXPECT_FALSE(valid(schema, "\"Securite\""));  // enum values are exact, accents included
  EXPECT_FALSE(valid(schema, "\"mayday\""));
  EXPECT_TRUE(valid(R"({"enum":[1, "a", null]})", "null"));
  EXPECT_TRUE(valid(R"({"enum":[1]})", "1.0"));  // JSON Schema compares numbers by value
  EXPECT_TRUE(valid(R"({"const":"x"})", "\"x\""));
  EXPECT_FALSE(valid(R"({"const":"x"})", "\"y\""));
}

TEST(Schema, NumericAndLengthBounds) {
  EXPECT_TRUE(valid(R"({"minimum":0,"maximum":10})", "10"));
  EXPECT_FALSE(valid(R"({"minimum":0,"maximum":10})", "10.5"));
  EXPECT_FALSE(valid(R"({"exclusiveMinimum":0})", "0"));
  EXPECT_TRUE(valid(R"({"exclusiveMaximum":1})", "0.99"));
  EXPECT_FALSE(valid(R"({"maxLength":7})", "\"Securité\""));  // 8 code points
  EXPECT_TRUE(valid(R"({"maxLength":8})", "\"Securité\""));            // é counts once
  EXPECT_FALSE(valid(R"({"minLength":1})", "\"\""));
  EXPECT_FALSE(valid(R"({"minItems":2})", "[1]"));
  EXPECT_FALSE(valid(R"({"maxItems":1})", "[1,2]"));
  EXPECT_TRUE(valid(R"({"minimum":0})", "\"not a number\""));  // bounds only constrain numbers
}

TEST(Schema, ObjectsRequiredAndUnknownProperties) {
  const char* schema = R"({"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}},"required":["a"]})";
  EXPECT_TRUE(valid(schema, R"({"a":"x"})"));
  EXPECT_TRUE(valid(schema, R"({"a":"x","b":2})"));
  EXPECT_FALSE(valid(schema, R"({"b":2})"));
  EXPECT_FALSE(valid(schema, R"({"a":"x","c":1})"));  // our default: no unknown properties
  EXPECT_TRUE(valid(R"({"type":"object","additionalProperties":true})", R"({"c":1})"));
  EXPECT_TRUE(valid(R"({"type":"object","additionalProperties":{"type":"integer"}})", R"({"c":1})"));
  EXPECT_FALSE(valid(R"({"type":"object","additionalProperties":{"type":"integer"}})", R"({"c":"1"})"));
}

TEST(Schema, NestedArraysAndObjectsNameTheirPath) {
  Json schema = j(R"({"type":"object","properties":{"crew":{"type":"array","items":{"type":"object",
      "properties":{"name":{"type":"string"},"age":{"type":"integer"}},"required":["name"]}}}})");
  EXPECT_TRUE(validate_value(schema, j(R"({"crew":[{"name":"Ann","age":40}]})"), "").empty());
  auto errors = validate_value(schema, j(R"({"crew":[{"name":"Ann"},{"age":4.5}]})"), "");
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_NE(errors[0].find("crew[1]"), std::string::npos) << errors[0];
  EXPECT_NE(errors[0].find("missing required argument \"name\""), std::string::npos) << errors[0];
  EXPECT_NE(errors[1].find("crew[1].age"), std::string::npos) << errors[1];
  EXPECT_NE(errors[1].find("expected integer"), std::string::npos) << errors[1];
}

TEST(Schema, AnyOfAndOneOf) {
  EXPECT_TRUE(valid(R"({"anyOf":[{"type":"string"},{"type":"integer"}]})", "3"));
  EXPECT_FALSE(valid(R"({"anyOf":[{"type":"string"},{"type":"integer"}]})", "3.5"));
  // 3 is both a number and an integer: oneOf needs exactly one match.
  EXPECT_FALSE(valid(R"({"oneOf":[{"type":"number"},{"type":"integer"}]})", "3"));
  EXPECT_TRUE(valid(R"({"oneOf":[{"type":"number"},{"type":"integer"}]})", "3.5"));
}

TEST(Definitions, OpenAiAndBareFormsAreTheSame) {
  auto wrapped = parse_function_definitions(j(R"([{"type":"function","function":{"name":"f","description":"d",
      "parameters":{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]}}}])"), "t");
  auto bare = parse_function_definitions(j(R"([{"name":"f","description":"d",
      "parameters":{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]}}])"), "t");
  ASSERT_EQ(wrapped.size(), 1u);
  ASSERT_EQ(bare.size(), 1u);
  EXPECT_EQ(wrapped[0].name, bare[0].name);
  EXPECT_EQ(wrapped[0].parameters, bare[0].parameters);
  EXPECT_EQ(to_tool_json(bare[0])["function"]["name"], "f");
}

TEST(Definitions, MalformedDefinitionsAreOneLineErrors) {
  auto message = [](const char* text) {
    try {
      parse_function_definitions(Json::parse(text), "defs.json");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(R"([{"description":"x"}])").find("defs.json[0]: function definition needs a non-empty string \"name\""), std::string::npos);
  EXPECT_NE(message(R"([{"name":"f"},{"name":"f"}])").find("defined twice"), std::string::npos);
  EXPECT_NE(message(R"([{"name":"f","parameters":{"type":"object","properties":{"a":{"type":"strin"}}}}])")
                .find("function \"f\" parameters.a: \"type\" must be one of"), std::string::npos);
  EXPECT_NE(message(R"([{"name":"f","parameters":{"type":"object","properties":{"a":{"enum":[]}}}}])").find("\"enum\" must be a non-empty array"),
            std::string::npos);
  EXPECT_NE(message(R"("f")").find("expected a list of function definitions"), std::string::npos);
}

TEST(Definitions, HostileNestingIsRefusedNotOverflowed) {
  std::string deep;
  for (int i = 0; i < 5000; ++i) deep += R"({"type":"array","items":)";
  deep += "{}";
  deep += std::string(5000, '}');
  Json schema = Json::parse(deep);
  Json definition = {{"name", "f"}, {"parameters", {{"type", "object"}, {"properties", {{"a", schema}}}}}};
  EXPECT_THROW(parse_function_definition(definition, "d"), Error);
  auto errors = validate_value(schema, Json::parse(std::string(100, '[') + std::string(100, ']')), "a");
  ASSERT_FALSE(errors.empty());
  EXPECT_NE(errors.back().find("nested deeper than 64 levels"), std::string::npos) << errors.back();
}

TEST(Calls, ArgumentsAsObjectOrAsJsonString) {
  auto a = parse_calls(j(R"([{"name":"f","arguments":{"x":1,"y":"é"}}])"), "c");
  auto b = parse_calls(j(R"([{"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"x\": 1, \"y\": \"é\"}"}}])"), "c");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a, b);
  EXPECT_EQ(format_calls(a), R"([{"name":"f","arguments":{"x":1,"y":"é"}}])");
  EXPECT_TRUE(parse_calls_text("  ", "c").empty());
  EXPECT_TRUE(parse_calls_text("[]", "c").empty());
  EXPECT_THROW(parse_calls(j(R"([{"name":"f","arguments":"{not json"}])"), "c"), Error);
  EXPECT_THROW(parse_calls(j(R"([{"name":"f","arguments":[1]}])"), "c"), Error);
  EXPECT_THROW(parse_calls(j(R"([{"arguments":{}}])"), "c"), Error);
}

TEST(Calls, CheckNamesFunctionArgumentAndExpectation) {
  auto defs = parse_function_definitions(j(R"([{"name":"broadcast","parameters":{"type":"object","properties":{
      "emergency_type":{"type":"string","enum":["Mayday","PAN-PAN","Securité"]}},"required":["emergency_type"]}}])"), "d");
  EXPECT_TRUE(check_calls(parse_calls(j(R"([{"name":"broadcast","arguments":{"emergency_type":"Mayday"}}])"), "c"), defs).empty());
  auto errors = check_calls(parse_calls(j(R"([{"name":"broadcast","arguments":{"emergency_type":"SOS"}},
      {"name":"call_coastguard","arguments":{}}])"), "c"), defs);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0], R"(call 0 to "broadcast": argument "emergency_type": "SOS" is not one of ["Mayday", "PAN-PAN", "Securité"])");
  EXPECT_EQ(errors[1], R"(call 1: function "call_coastguard" is not defined (defined: broadcast))");
}

}  // namespace
}  // namespace slmtune::functions
