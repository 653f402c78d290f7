#!/usr/bin/python3
"""Writes tests/chat/jinja_cases.json: small templates rendered by Python's Jinja2 in the environment
Hugging Face transformers uses for chat templates. The C++ engine must reproduce each output byte for
byte, or fail where Jinja2 failed.

Run with Debian's python3 and python3-jinja2 (3.1.x):  /usr/bin/python3 tests/chat/make_jinja_cases.py
"""
import json
import os
from datetime import datetime

from jinja2 import nodes
from jinja2.ext import Extension, loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.exceptions import TemplateError


class GenerationTag(Extension):
    # transformers' {% generation %}: renders its body unchanged.
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return nodes.CallBlock(self.call_method("_render"), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def raise_exception(message):
    raise TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(fmt):
    return datetime(2024, 7, 26, 10, 30, 0).strftime(fmt)


env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[GenerationTag, loopcontrols])
env.filters["tojson"] = tojson
env.globals["raise_exception"] = raise_exception
env.globals["strftime_now"] = strftime_now

CTX = {
    "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi \"there\" 'you'"},
        {"role": "assistant", "content": "Hello.", "tool_calls": [{"function": {"name": "f", "arguments": {"b": 1, "a": [1.5, None, True]}}}]},
    ],
    "d": {"b": 2, "a": 1, "C": 3},
    "items": [3, 1, 2],
    "words": ["banana", "Apple", "cherry", "apple"],
    "people": [{"name": "Ann", "age": 31, "admin": True}, {"name": "bob", "age": 25, "admin": False}, {"name": "Cy", "age": 40}],
    "s": "  Hello, World  ",
    "u": "Café 世界 👋",
    "n": 7,
    "f": 2.5,
    "empty": [],
    "nothing": None,
    "flag": True,
}

# (name, template). Every case renders with CTX.
CASES = [
    # --- output and Python printing ---
    ("print_scalars", "{{ 1 }} {{ -3 }} {{ 1.0 }} {{ 0.1 }} {{ 1e-5 }} {{ 1e16 }} {{ 123456789.125 }} {{ 2.5e-7 }} {{ true }} {{ False }} {{ none }}"),
    ("print_float_arith", "{{ 0.1 + 0.2 }} {{ 10 / 4 }} {{ 10 / 5 }} {{ 1 / 3 }} {{ 2 ** 0.5 }} {{ 3.0 * 2 }}"),
    ("print_containers", "{{ [1, 'a', none, true, 1.5] }} {{ {'k': 'v', 'n': [1, 2]} }} {{ (1,) }} {{ (1, 'b') }} {{ () }} {{ [] }} {{ {} }}"),
    ("print_string_repr", "{{ ['it\\'s', \"say \\\"hi\\\"\", 'both \\' \"', 'tab\\tnl\\n', 'back\\\\slash'] }}"),
    ("print_unicode_repr", "{{ [u, 'é'] }}"),
    ("print_context_values", "{{ d }} {{ items }} {{ people[0] }} {{ nothing }} {{ flag }} {{ f }}"),
    ("print_undefined", "[{{ missing }}][{{ d.missing }}][{{ items[10] }}]"),
    ("print_tuple_expr", "{{ 1, 2 }}"),
    ("string_literals", "{{ 'a\\nb' }}|{{ \"c\\td\" }}|{{ 'x' 'y' }}|{{ '\\u00e9\\x41' }}|{{ 'no\\escape' }}"),
    # --- whitespace control ---
    ("trim_blocks", "{% if true %}\nyes\n{% endif %}\nend"),
    ("lstrip_blocks", "<ul>\n    {% for i in items %}\n    <li>{{ i }}</li>\n    {% endfor %}\n</ul>"),
    ("lstrip_not_variables", "a\n    {{ n }}\n  {# c #}\nb"),
    ("minus_modifiers", "a   {{- n -}}   b\n\n  {%- if true -%}\n  c  \n{%- endif %}  d"),
    ("plus_modifiers", "x\n    {%+ if true %}y{% endif +%}\nz"),
    ("comments", "a{# comment #}b\n{# line comment #}\nc {#- stripped -#}   d"),
    ("raw_block", "{% raw %}{{ not evaluated }} {% if %}{% endraw %}|done"),
    ("trailing_newline_dropped", "line\n"),
    ("crlf_normalised", "a\r\nb\rc"),
    # --- if / for ---
    ("if_elif_else", "{% for v in [0, 1, 2, 3] %}{% if v == 0 %}zero{% elif v == 1 %}one{% elif v > 2 %}big{% else %}two{% endif %},{% endfor %}"),
    ("for_loop_attributes", "{% for x in ['a', 'b', 'c'] %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}|{% endfor %}"),
    ("for_prev_next", "{% for x in items %}[{{ loop.previtem }}<{{ x }}>{{ loop.nextitem }}]{% endfor %}"),
    ("for_cycle", "{% for x in range(5) %}{{ loop.cycle('odd', 'even') }} {% endfor %}"),
    ("for_else", "{% for x in empty %}{{ x }}{% else %}nothing{% endfor %}|{% for x in missing %}{{ x }}{% else %}undef{% endfor %}"),
    ("for_filter", "{% for x in range(10) if x is odd %}{{ x }}{{ loop.length }}{{ '.' if not loop.last }}{% endfor %}"),
    ("for_unpack_items", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{% for a, b in [[1, 2], (3, 4)] %}{{ a + b }}{% endfor %}"),
    ("for_over_dict_and_string", "{% for k in d %}{{ k }}{% endfor %}|{% for c in 'héy' %}[{{ c }}]{% endfor %}"),
    ("for_break_continue", "{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 5 %}{% break %}{% endif %}{{ x }}{% endfor %}"),
    ("for_nested_loop_vars", "{% for a in [1, 2] %}{% for b in 'xy' %}{{ loop.index }}{{ a }}{{ b }} {% endfor %}{{ loop.index }}|{% endfor %}"),
    ("for_scope_does_not_leak", "{% set x = 'outer' %}{% for i in range(2) %}{% set x = 'inner' %}{{ x }}{% endfor %}{{ x }}"),
    ("for_none_fails", "{% for x in nothing %}{{ x }}{% endfor %}"),
    ("loop_over_messages", "{% for m in messages %}{{ m.role }}:{{ m['content'] }}\n{% endfor %}"),
    # --- set, namespace, with ---
    ("set_variables", "{% set a = 1 %}{% set b, c = 'xy' %}{% set t = 1, 2 %}{{ a }}{{ b }}{{ c }}{{ t }}"),
    ("set_block", "{% set block %}Hi {{ n }}!{% endset %}[{{ block }}]{% set up | upper %}shout{% endset %}{{ up }}"),
    ("namespace_attributes", "{% set ns = namespace(count=0, seen=[]) %}{% for i in range(4) %}{% set ns.count = ns.count + i %}{% endfor %}{{ ns.count }}{{ ns.seen }}{{ ns.missing is defined }}"),
    ("set_attribute_on_dict_fails", "{% set d.x = 1 %}"),
    ("with_block", "{% with a = 1, b = n %}{{ a + b }}{% endwith %}{{ a is defined }}"),
    # --- macros, call, filter blocks ---
    ("macro_defaults", "{% macro greet(name, greeting='Hello', punct='!') %}{{ greeting }}, {{ name }}{{ punct }}{% endmacro %}{{ greet('Ann') }} {{ greet('Bo', punct='?') }} {{ greet('Cy', 'Hi') }}"),
    ("macro_varargs_kwargs", "{% macro m(a) %}{{ a }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, 3, x=4) }}"),
    ("macro_sees_globals", "{% set g = 'global' %}{% macro m() %}{{ g }}{{ n }}{% endmacro %}{{ m() }}"),
    ("macro_missing_arg_undefined", "{% macro m(a, b) %}[{{ a }}|{{ b }}|{{ b is defined }}]{% endmacro %}{{ m(1) }}"),
    ("macro_recursion", "{% macro fact(k) %}{% if k <= 1 %}1{% else %}{{ k * (fact(k - 1) | int) }}{% endif %}{% endmacro %}{{ fact(6) }}"),
    ("call_block", "{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}bold {{ n }}{% endcall %}"),
    ("call_block_args", "{% macro each(xs) %}{% for x in xs %}{{ caller(x) }}{% endfor %}{% endmacro %}{% call(v) each([1, 2]) %}<{{ v }}>{% endcall %}"),
    ("filter_block", "{% filter upper %}hello {{ 'world' }}{% endfilter %}|{% filter replace('a', 'o') | title %}banana bat{% endfilter %}"),
    ("generation_block", "A{% generation %}gen {{ n }}{% endgeneration %}B"),
    # --- expressions ---
    ("arithmetic", "{{ 7 + 3 }} {{ 7 - 10 }} {{ 7 * 3 }} {{ 7 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 7.5 // 2 }} {{ -7.5 % 2 }}"),
    ("precedence", "{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 2 ** 3 ** 2 }} {{ -2 ** 2 }} {{ 10 - 2 - 3 }} {{ 1 ~ 2 ~ 3 }} {{ 2 * 3 ~ 4 }} {{ not true or true }} {{ not (true or true) }}"),
    ("string_ops", "{{ 'ab' + 'cd' }} {{ 'ab' * 3 }} {{ 3 * 'x' }} {{ 'a' ~ 1 ~ none ~ true }} {{ [1] + [2, 3] }} {{ [0] * 3 }}"),
    ("comparisons", "{{ 1 < 2 }} {{ 2 <= 2 }} {{ 3 > 4 }} {{ 'a' < 'b' }} {{ 1 == 1.0 }} {{ 1 != '1' }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ [1, 2] < [1, 3] }} {{ true == 1 }}"),
    ("membership", "{{ 'a' in 'cat' }} {{ 2 in items }} {{ 'b' in d }} {{ 'z' not in d }} {{ 5 not in items }} {{ 'x' in missing }}"),
    ("logic_returns_operands", "{{ 0 or 'x' }} {{ 'a' and 'b' }} {{ '' and 'b' }}| {{ none or [] }} {{ 1 and 0 }}"),
    ("conditional_expr", "{{ 'y' if flag else 'n' }} {{ 'y' if nothing else 'n' }} [{{ 'y' if nothing }}] {{ 1 if false else 2 if true else 3 }}"),
    ("subscripts_and_slices", "{{ items[0] }} {{ items[-1] }} {{ items[1:] }} {{ items[:-1] }} {{ items[::-1] }} {{ items[::2] }} {{ 'hello'[1:3] }} {{ u[::-1] }} {{ u[5] }} {{ messages[1:] | length }}"),
    ("attribute_vs_item", "{{ d.a }} {{ d['b'] }} {{ people[1].name }} {{ messages[2].tool_calls[0].function.arguments.a[0] }} {{ items.0 }}"),
    ("dict_literal_and_methods", "{% set x = {'b': 1, 'a': 2} %}{{ x.keys() | list }} {{ x.values() | list }} {{ x.items() | list }} {{ x.get('a') }} {{ x.get('z') }} {{ x.get('z', 'dflt') }}"),
    ("items_shadowed_by_method", "{% set x = {'items': 5} %}{{ x['items'] }} {{ x.items() | list }}"),
    ("unary", "{{ -n }} {{ +n }} {{ -f }} {{ - -3 }} {{ not 0 }}"),
    # --- string methods ---
    ("str_strip", "[{{ s.strip() }}][{{ s.lstrip() }}][{{ s.rstrip() }}][{{ 'xxhixx'.strip('x') }}][{{ '--a-'.lstrip('-') }}]"),
    ("str_split", "{{ 'a,b,,c'.split(',') }} {{ '  a  b c '.split() }} {{ 'a b c'.split(' ', 1) }} {{ 'a,b,c'.rsplit(',', 1) }} {{ ' x  y '.split(none, 1) }}"),
    ("str_case", "{{ 'hello world'.upper() }} {{ 'HeLLo'.lower() }} {{ 'hello wORLD-x'.title() }} {{ 'hELLO'.capitalize() }} {{ 'ÉCOLE'.lower() }}"),
    ("str_affixes", "{{ 'hello'.startswith('he') }} {{ 'hello'.endswith('lo') }} {{ 'hello'.startswith(('x', 'h')) }} {{ 'hello'.endswith('x') }}"),
    ("str_replace_find_count", "{{ 'a-b-c'.replace('-', '+') }} {{ 'a-b-c'.replace('-', '', 1) }} {{ 'hello'.find('l') }} {{ 'hello'.find('z') }} {{ 'hello'.count('l') }} {{ u.find('世') }}"),
    ("str_format_join", "{{ '{} and {}'.format('a', 1) }} {{ '{name}!'.format(name='x') }} {{ '-'.join(['a', 'b']) }} {{ ', '.join(words) }}"),
    ("str_predicates", "{{ '123'.isdigit() }} {{ 'ab'.isalpha() }} {{ ' '.isspace() }} {{ 'ab'.islower() }} {{ 'AB'.isupper() }} {{ ''.isdigit() }}"),
    ("str_splitlines", "{{ 'a\\nb\\r\\nc'.splitlines() }}"),
    ("list_methods", "{{ items.index(1) }} {{ [1, 1, 2].count(1) }}"),
    # --- tests ---
    ("test_defined", "{{ n is defined }} {{ missing is defined }} {{ missing is undefined }} {{ d.a is defined }} {{ d.zz is undefined }}"),
    ("test_types", "{{ nothing is none }} {{ 's' is string }} {{ 1 is number }} {{ 1.5 is number }} {{ true is number }} {{ 1 is integer }} {{ true is integer }} {{ 1.0 is float }} {{ true is boolean }} {{ 1 is boolean }}"),
    ("test_containers", "{{ d is mapping }} {{ items is mapping }} {{ items is iterable }} {{ 's' is iterable }} {{ 1 is iterable }} {{ items is sequence }} {{ 's' is sequence }} {{ d is sequence }} {{ 1 is sequence }} {{ missing is iterable }}"),
    ("test_true_false", "{{ true is true }} {{ 1 is true }} {{ false is false }} {{ 0 is false }} {{ none is false }}"),
    ("test_numbers", "{{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ 10 is divisibleby(3) }} {{ 3 is not odd }}"),
    ("test_comparisons", "{{ 1 is eq 1 }} {{ 1 is equalto 2 }} {{ 'a' is in 'cat' }} {{ 2 is in [1, 2] }} {{ 3 is gt 2 }} {{ 3 is lt 2 }} {{ 3 is ge 3 }} {{ 3 is le 2 }} {{ 3 is ne 3 }}"),
    ("test_callable_sameas", "{{ range is callable }} {{ n is callable }} {{ d.get is callable }} {{ none is sameas none }} {{ false is sameas false }} {{ 0 is sameas false }}"),
    ("test_lower_upper", "{{ 'abc' is lower }} {{ 'Abc' is lower }} {{ 'ABC' is upper }}"),
    # --- filters ---
    ("filter_tojson", "{{ messages[2] | tojson }}|{{ {'é': 'ü', 'n': none, 'f': 1.0, 'l': [1, [2, {}]]} | tojson }}|{{ 'a\"b\\\\c\\n' | tojson }}"),
    ("filter_tojson_options", "{{ d | tojson(indent=2) }}|{{ d | tojson(sort_keys=true) }}|{{ d | tojson(separators=(',', ':')) }}|{{ [1, [2]] | tojson(indent=0) }}|{{ {'a': [], 'b': {}} | tojson(indent='\\t') }}|{{ u | tojson(ensure_ascii=true) }}"),
    ("filter_tojson_floats", "{{ [1.0, 0.5, 1e-07, 1e20, 3.14159, -0.0, 100.0] | tojson }}"),
    ("filter_trim", "[{{ s | trim }}][{{ 'xxaxx' | trim('x') }}][{{ missing | trim }}]"),
    ("filter_length_count", "{{ items | length }} {{ 'héllo' | length }} {{ d | count }} {{ missing | length }} {{ u | length }}"),
    ("filter_first_last", "{{ items | first }} {{ items | last }} {{ 'abc' | first }} [{{ empty | first }}] {{ d | first }}"),
    ("filter_join", "{{ items | join }} {{ items | join(', ') }} {{ people | join('/', attribute='name') }} {{ [1, none, 'x'] | join('-') }}"),
    ("filter_default", "{{ missing | default('dflt') }} {{ n | d('x') }} {{ '' | default('empty') }} {{ '' | default('empty', true) }} {{ nothing | default('x') }} {{ missing | default }}|"),
    ("filter_case", "{{ 'abc' | upper }} {{ 'ABC' | lower }} {{ 'hello WORLD' | capitalize }} {{ 'hello wORLD-foo (bar) o\\'neil' | title }}"),
    ("filter_replace", "{{ 'aaa' | replace('a', 'b') }} {{ 'aaa' | replace('a', 'b', 2) }} {{ 123 | replace('2', 'x') }}"),
    ("filter_list_string", "{{ 'abc' | list }} {{ d | list }} {{ (1, 2) | list }} {{ 12 | string }} {{ [1, 'a'] | string }} {{ none | string }}"),
    ("filter_int_float", "{{ '42' | int }} {{ '4.7' | int }} {{ 'x' | int }} {{ 'x' | int(-1) }} {{ 3.9 | int }} {{ '0x1A' | int(0, 16) }} {{ '3' | float }} {{ 'nope' | float }} {{ true | int }} {{ none | int }}"),
    ("filter_abs_round", "{{ -3 | abs }} {{ -2.5 | abs }} {{ 2.5 | round }} {{ 3.5 | round }} {{ 2.675 | round(2) }} {{ 1.4 | round(0, 'ceil') }} {{ 1.6 | round(0, 'floor') }} {{ 7 | round }} {{ 12.345 | round(1) }}"),
    ("filter_safe_escape", "{{ '<b>' | safe }} {{ '<a href=\"x\">&\\'' | escape }} {{ '<b>' | e }}"),
    ("markup_concat_escapes", "{{ 'x'|safe + '<y>' }}|{{ '<y>' + 'x'|safe }}|{{ 'x'|safe ~ '<y>' }}|{{ ('<a>'|safe).upper() }}"),
    ("filter_items_dictsort", "{{ d | items | list }} {{ d | dictsort }} {{ d | dictsort(true) }} {{ d | dictsort(by='value', reverse=true) }}"),
    ("filter_map", "{{ words | map('upper') | list }} {{ people | map(attribute='name') | join(',') }} {{ people | map(attribute='admin', default='n/a') | list }} {{ ['a', 'b'] | map('replace', 'a', 'z') | list }}"),
    ("filter_select_reject", "{{ range(10) | select('odd') | list }} {{ range(10) | reject('even') | list }} {{ [0, 1, '', 'x', none] | select | list }} {{ range(10) | select('divisibleby', 3) | list }} {{ items | select('gt', 1) | list }}"),
    ("filter_selectattr", "{{ people | selectattr('admin') | map(attribute='name') | list }} {{ people | rejectattr('admin') | map(attribute='name') | list }} {{ people | selectattr('age', 'gt', 30) | map(attribute='name') | list }} {{ messages | selectattr('role', 'equalto', 'user') | list | length }}"),
    ("filter_unique_sort", "{{ words | unique | list }} {{ words | unique(case_sensitive=true) | list }} {{ words | sort }} {{ words | sort(reverse=true, case_sensitive=true) }} {{ people | sort(attribute='age') | map(attribute='name') | list }} {{ items | sort }}"),
    ("filter_reverse", "{{ items | reverse | list }} {{ 'abc' | reverse }} {{ u | reverse }}"),
    ("filter_indent", "{{ 'a\\nb\\n\\nc' | indent }}|{{ 'a\\nb' | indent(2, true) }}|{{ 'a\\n\\nb\\n' | indent(2, blank=true) }}|{{ 'x\\ny' | indent('> ') }}"),
    ("filter_wordcount_batch", "{{ 'Hello, wonderful world_x 42' | wordcount }} {{ range(7) | batch(3) | list }} {{ range(5) | batch(2, 'x') | list }}"),
    ("filter_sum_min_max", "{{ items | sum }} {{ people | sum(attribute='age') }} {{ [1.5, 2] | sum(start=10) }} {{ items | min }} {{ items | max }} {{ words | min }} {{ words | max(case_sensitive=true) }} {{ people | max(attribute='age') }}"),
    ("filter_center_format", "[{{ 'ab' | center(7) }}][{{ '%s-%d' | format('x', 3) }}]"),
    ("filter_chain", "{{ messages | map(attribute='role') | unique | join('|') | upper }}"),
    # Python's ints are unbounded; a number past int64 after '.' or in attribute= indexes nothing (found by fuzzing).
    ("huge_integer_index", "[{{ items.99999999999999999999 }}][{{ messages | map(attribute='content.99999999999999999999') | select('defined') | list | length }}]"),
    # --- globals ---
    ("global_range", "{{ range(3) | list }} {{ range(1, 4) | list }} {{ range(10, 0, -3) | list }} {{ range(0) | list }}"),
    ("global_dict_namespace", "{{ dict(a=1, b='x') }} {% set ns = namespace(d, z=0) %}{{ ns.a }}{{ ns.z }}"),
    ("global_strftime_now", "{{ strftime_now('%Y-%m-%d %H:%M:%S') }} {{ strftime_now('%d %b %Y') }} {{ strftime_now('%A') }}"),
    ("global_raise_exception", "before{{ raise_exception('boom: ' ~ n) }}"),
    # --- errors ---
    ("error_undefined_attribute", "{{ missing.attr }}"),
    ("error_empty_list_index_attr", "{{ empty[0]['role'] }}"),
    ("error_list_append", "{% set x = [] %}{% set _ = x.append(1) %}"),
    ("error_dict_pop", "{{ d.pop('a') }}"),
    ("error_division_by_zero", "{{ 1 / 0 }}"),
    ("error_str_plus_int", "{{ 'a' + 1 }}"),
    ("error_str_plus_dict", "{{ 'a' + d }}"),
    ("error_undefined_arithmetic", "{{ missing + 1 }}"),
    ("error_compare_str_int", "{{ 'a' < 1 }}"),
    ("error_tojson_undefined", "{{ missing | tojson }}"),
    ("error_tojson_generator", "{{ items | map('string') | tojson }}"),
    ("error_length_generator", "{{ items | select | length }}"),
    ("error_unknown_filter", "{{ 1 | nosuchfilter }}"),
    ("unknown_filter_in_untaken_branch", "{% if false %}{{ 1 | nosuchfilter }}{% endif %}ok"),
    ("error_unknown_test", "{{ 1 is nosuchtest }}"),
    ("error_call_non_callable", "{{ n() }}"),
    ("error_syntax_unclosed_if", "{% if true %}x"),
    ("error_syntax_bad_expression", "{{ 1 + }}"),
    ("error_syntax_unknown_tag", "{% include 'x.html' %}"),
    ("error_syntax_endfor_without_for", "{% endfor %}"),
    ("error_break_outside_loop", "{% break %}"),
    ("error_format_huge_index", "{{ '{99999999999999999999}'.format(1) }}"),
    ("error_range_too_big", "{{ range(200000) | length }}"),
    ("error_unpack_mismatch", "{% for a, b in [[1, 2, 3]] %}{% endfor %}"),
]


def main():
    out = []
    for name, source in CASES:
        case = {"name": name, "template": source}
        try:
            case["output"] = env.from_string(source).render(**CTX)
        except Exception as e:  # noqa: BLE001 - every failure kind is an expected outcome here
            case["error"] = f"{type(e).__name__}: {e}"
        out.append(case)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "jinja_cases.json")
    with open(path, "w", encoding="utf-8") as fh:
        json.dump({"generator": "tests/chat/make_jinja_cases.py", "jinja2": __import__("jinja2").__version__,
                   "context": CTX, "cases": out}, fh, ensure_ascii=False, indent=1)
        fh.write("\n")
    print(f"{len(out)} cases written to {path}")


if __name__ == "__main__":
    main()
