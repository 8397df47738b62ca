#!/usr/bin/python3
"""Writes chat_goldens.json: templates rendered by the real jinja2 the way transformers renders
chat templates, for cppformers' Jinja engine and apply_chat_template tests to match exactly.

Run with Debian's python3-jinja2 (apt-get install python3-jinja2), from the repository root:
    /usr/bin/python3 cppformers/tokenizers/testdata/make_chat_goldens.py

The environment is transformers' (utils/chat_template_utils.py): an ImmutableSandboxedEnvironment
with trim_blocks=True, lstrip_blocks=True, the loopcontrols extension and a {% generation %}
block; its `tojson` filter is json.dumps(x, ensure_ascii=False, indent=..., separators=...,
sort_keys=...), and the globals raise_exception() and strftime_now(). The render variables are
transformers' too: messages, tools, documents, add_generation_prompt, the tokenizer's special
tokens map (every special-token attribute that is set) and the extra keyword arguments.

Three kinds of records:
  features   small templates exercising one construct each: {name, template, context} and
             either {output} or {error: "syntax" | "runtime" | "raised", message}
  fixtures   the chat templates of ../shared/fixtures/tokenizers/<name>/tokenizer_config.json
             (the C++ test reads the template from the fixture) over several conversations
  families   hand-written templates in the style of common model families (ChatML, Llama-3,
             Mistral, Gemma, Qwen2, Phi-3 layouts) over the same conversations
  random_expressions  {{ ... }} with random nestings of literals, operators, filters, tests and
             str methods (a fixed seed), each rendered over a fresh copy of RANDOM_CONTEXT
  random_templates  random text (spaces, tabs, newlines) around if/for/set/comment/raw/print
             tags with random whitespace-control marks ({%- -%} {%+ +%} {{- -}}), over
             RANDOM_TEMPLATE_CONTEXT: trim_blocks / lstrip_blocks behaviour
"""
import copy
import datetime
import hashlib
import json
import os
import random
import sys

import jinja2
import jinja2.ext
from jinja2 import nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
FIXTURES = os.path.normpath(os.path.join(REPO, "..", "shared", "fixtures", "tokenizers"))


class GenerationBlock(jinja2.ext.Extension):
    """{% generation %}...{% endgeneration %}: renders its body (transformers tracks its span)."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_body", []), [], [], body).set_lineno(lineno)

    def _body(self, caller):
        return caller()


def make_env():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(format):
        return datetime.datetime.now().strftime(format)

    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[GenerationBlock, jinja2.ext.loopcontrols]
    )
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


ENV = make_env()


def render(template, context):
    """{output} or {error, message}."""
    try:
        return {"output": ENV.from_string(template).render(**context)}
    except (jinja2.exceptions.TemplateSyntaxError, jinja2.exceptions.TemplateAssertionError, SyntaxError) as e:
        return {"error": "syntax", "message": str(e)}
    except jinja2.exceptions.UndefinedError as e:
        return {"error": "runtime", "message": str(e)}
    except jinja2.exceptions.TemplateError as e:
        # raise_exception() raises TemplateError itself; its subclasses (SecurityError,
        # TemplateRuntimeError) are the engine's own runtime errors
        kind = "raised" if type(e) is jinja2.exceptions.TemplateError else "runtime"
        return {"error": kind, "message": str(e)}
    except (TypeError, ValueError, ZeroDivisionError, KeyError, IndexError, AttributeError, OverflowError) as e:
        return {"error": "runtime", "message": "%s: %s" % (type(e).__name__, e)}


# ---------------------------------------------------------------------------------------------
# Feature cases: (name, template, context)

MSGS = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hi!"},
    {"role": "assistant", "content": "Hello."},
]

FEATURES = [
    # text, comments, whitespace control, trim_blocks / lstrip_blocks
    ("plain_text", "Hello, world!", {}),
    ("trailing_newline_dropped", "line\n", {}),
    ("two_trailing_newlines", "line\n\n", {}),
    ("crlf_normalized", "a\r\nb\rc", {}),
    ("comment", "a{# note #}b", {}),
    ("comment_lstrip", "a\n    {# note #}\nb", {}),
    ("comment_dash", "a   {#- x -#}   b", {}),
    ("var_basic", "{{ x }}", {"x": "v"}),
    ("var_dash_left", "a  \n {{- x }}", {"x": "v"}),
    ("var_dash_right", "{{ x -}}  \n  b", {"x": "v"}),
    ("var_no_lstrip", "a\n    {{ x }}\n", {"x": "v"}),
    ("block_trim_newline", "{% if true %}\nyes\n{% endif %}\nafter", {}),
    ("block_lstrip", "x\n    {% if true %}\n    yes\n    {% endif %}\ny", {}),
    ("block_lstrip_tabs", "x\n\t \t{% if true %}\n\tyes\n\t{% endif %}\ny", {}),
    ("block_not_at_line_start", "x  {% if true %}y{% endif %}  z", {}),
    ("block_plus_disables_lstrip", "x\n    {%+ if true %}y{% endif %}", {}),
    ("block_plus_end_keeps_newline", "{% if true +%}\ny{% endif %}", {}),
    ("block_dash_both", "a  \n  {%- if true -%}  \n  b  \n  {%- endif -%}  \n  c", {}),
    ("lstrip_after_var", "{{ x }}  {% if true %}y{% endif %}", {"x": 1}),
    ("lstrip_first_line", "   {% if true %}y{% endif %}", {}),
    ("lstrip_after_block_newline", "{% if true %}\n   {% if true %}z{% endif %}\n{% endif %}", {}),
    ("raw_block", "{% raw %}{{ not rendered }}{% endraw %}", {}),
    ("raw_block_ws", "a\n  {% raw -%}  x {{ y }}  {%- endraw %}\nb", {}),
    ("raw_then_lstrip", "{% raw %}r{% endraw %}\n    {% if true %}x{% endif %}", {}),
    ("sort_multi_attribute", "{{ users | sort(attribute='age,name') | map(attribute='name') | join }}", {"users": [{"name": "b", "age": 2}, {"name": "a", "age": 2}, {"name": "c", "age": 1}]}),
    ("unicode_ws_dash", "a\u3000\u00a0{{- 'b' -}}\u2003c", {}),
    ("nbsp_not_lstripped", "x\n\u00a0{% if true %}y{% endif %}", {}),
    # literals and printing
    ("print_none_bool", "{{ none }}|{{ true }}|{{ False }}|{{ None }}", {}),
    ("print_numbers", "{{ 1 }}|{{ -3 }}|{{ 2.5 }}|{{ 1e20 }}|{{ 1e-5 }}|{{ 0.1 + 0.2 }}|{{ 1_000 }}|{{ 0x1F }}|{{ 3.0 }}|{{ 1e16 }}|{{ 123456789012345.6 }}", {}),
    ("print_list_dict", "{{ [1, 'a', none, true, 2.0, {'k': \"it's\"}] }}|{{ (1,) }}|{{ (1, 'b') }}|{{ {} }}|{{ [] }}", {}),
    ("print_json_values", "{{ d }}|{{ d.b }}", {"d": {"b": [1, 2.5, None, True, "x\n"], "a": {"z": 1}}}),
    ("string_escapes", "{{ 'a\\nb\\t\\'c\\'' }}|{{ \"q\\\"q\" }}|{{ '\\u00e9\\x41\\101' }}|{{ '\\d' }}", {}),
    ("string_concat_adjacent", "{{ 'a' 'b' \"c\" }}", {}),
    ("repr_quotes", "{{ [\"it's\", 'say \"hi\"', 'both \\' \"', 'tab\\t', '\\x00', '\u00e9\u4e2d'] }}", {}),
    ("tuple_print", "{{ 1, 2 }}", {}),
    # operators
    ("arith", "{{ 7 / 2 }}|{{ 7 // 2 }}|{{ -7 // 2 }}|{{ -7 % 3 }}|{{ 7 % -3 }}|{{ 2 ** 10 }}|{{ 2 ** -1 }}|{{ 7.5 % 2 }}|{{ 1 + 2 * 3 - 4 }}|{{ (1 + 2) * 3 }}", {}),
    ("arith_bool", "{{ true + 1 }}|{{ 3 * true }}|{{ 1 == 1.0 }}|{{ true == 1 }}", {}),
    ("neg_pow", "{{ -2 ** 2 }}|{{ 2 ** 3 ** 2 }}", {}),
    ("string_ops", "{{ 'ab' + 'cd' }}|{{ 'ab' * 3 }}|{{ 3 * 'x' }}|{{ 'a' ~ 1 ~ none ~ true ~ 1.5 }}|{{ [1] + [2, 3] }}|{{ [0] * 3 }}", {}),
    ("concat_undefined", "[{{ missing ~ 'x' }}]", {}),
    ("compare", "{{ 1 < 2 }}{{ 2 <= 2 }}{{ 'a' < 'b' }}{{ [1, 2] < [1, 3] }}{{ 1 < 2 < 3 }}{{ 3 > 2 > 2 }}{{ 'x' != 'y' }}{{ none == none }}", {}),
    ("in_operator", "{{ 'a' in 'cat' }}{{ 2 in [1, 2] }}{{ 'k' in {'k': 1} }}{{ 3 not in [1] }}{{ 'z' not in 'abc' }}{{ 1 in u }}", {}),
    ("logic", "{{ 0 or 'x' }}|{{ 1 and 'y' }}|{{ '' and 1 }}|{{ none or [] }}|{{ not 0 }}|{{ not 'a' }}|{{ not not 1 }}", {}),
    ("ternary", "{{ 'a' if x else 'b' }}|{{ 'a' if not x else 'b' }}|[{{ 'c' if false }}]|{{ 1 if 0 else 2 if 0 else 3 }}", {"x": True}),
    ("precedence_filter_vs_op", "{{ 'ab' ~ 'cd' | upper }}|{{ items | length - 1 }}|{{ -1 | abs }}|{{ not x is defined }}", {"items": [1, 2, 3]}),
    ("compare_types_error", "{{ 'a' < 1 }}", {}),
    ("add_str_int_error", "{{ 'a' + 1 }}", {}),
    ("add_int_str_error", "{{ 1 + 'a' }}", {}),
    ("div_zero", "{{ 1 / 0 }}", {}),
    ("undefined_plus", "{{ missing + 1 }}", {}),
    ("undefined_compare", "{{ missing < 1 }}", {}),
    # variables, attributes, items, slices
    ("undefined_prints_empty", "[{{ missing }}]", {}),
    ("undefined_attr_error", "{{ missing.attr }}", {}),
    ("undefined_item_error", "{{ missing[0] }}", {}),
    ("dict_missing_attr", "[{{ d.nope }}]|{{ d.nope is defined }}|{{ d['nope'] is defined }}|{{ d.a }}|{{ d['a'] }}", {"d": {"a": 1}}),
    ("dict_missing_nested_error", "{{ d.nope.deeper }}", {"d": {"a": 1}}),
    ("none_attr", "[{{ n.x }}]|{{ n.x is defined }}", {"n": None}),
    ("list_index", "{{ l[0] }}|{{ l[-1] }}|[{{ l[5] }}]|{{ l.1 }}|{{ l[true] }}", {"l": ["a", "b", "c"]}),
    ("string_index", "{{ s[0] }}|{{ s[-1] }}|{{ s[1] }}|[{{ s[9] }}]", {"s": "h\u00e9\u4e2d\U0001F600"}),
    ("slices", "{{ l[1:] }}|{{ l[:2] }}|{{ l[::-1] }}|{{ l[::2] }}|{{ l[-2:] }}|{{ l[1:-1] }}|{{ l[5:] }}|{{ l[3:1:-1] }}|{{ s[1:3] }}|{{ s[::-1] }}|{{ (1, 2, 3)[1:] }}",
     {"l": [0, 1, 2, 3, 4], "s": "h\u00e9llo\u4e2d"}),
    ("slice_messages", "{% for m in messages[1:] %}{{ m.role }},{% endfor %}|{% for m in messages[::-1] %}{{ m.role }},{% endfor %}", {"messages": MSGS}),
    ("slice_step_zero", "{{ l[::0] }}", {"l": [1]}),
    ("dict_methods", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}|{{ d.keys() | list }}|{{ d.values() | list }}|{{ d.get('a') }}|{{ d.get('z') }}|{{ d.get('z', 5) }}",
     {"d": {"b": 2, "a": 1}}),
    ("dict_items_attr_is_method", "{{ d.items is defined }}|{{ d['items'] }}", {"d": {"items": "key"}}),
    ("dict_literal", "{% set d = {'x': 1, 'y': [1, 2], 3: 'three'} %}{{ d.x }}|{{ d['y'][1] }}|{{ d[3] }}|{{ d }}", {}),
    ("list_methods", "{{ l.index(2) }}|{{ l.count(1) }}", {"l": [1, 2, 1]}),
    ("list_append_unsafe", "{% set l = [1] %}{{ l.append(2) }}", {}),
    ("list_append_unsafe_print", "[{{ [1].append }}]", {}),
    # string methods
    ("str_startswith", "{{ s.startswith('He') }}{{ s.endswith('!') }}{{ s.startswith(('x', 'H')) }}{{ s.endswith('lo', 0, 5) }}", {"s": "Hello!"}),
    ("str_strip", "[{{ s.strip() }}][{{ s.lstrip() }}][{{ s.rstrip() }}][{{ '--x--'.strip('-') }}][{{ 'xyaxy'.lstrip('yx') }}][{{ '\\n\\nx\\n'.strip('\\n') }}]", {"s": "  \t hi \n "}),
    ("str_split", "{{ 'a b  c'.split() }}|{{ 'a,b,,c'.split(',') }}|{{ 'a,b,c'.split(',', 1) }}|{{ 'a,b,c'.rsplit(',', 1) }}|{{ '  x  y '.split(None, 1) }}|{{ ''.split(',') }}|{{ 'x</think>y</think>z'.split('</think>')[-1] }}", {}),
    ("str_splitlines", "{{ 'a\\nb\\r\\nc\\n'.splitlines() }}|{{ 'a\\nb'.splitlines(true) }}", {}),
    ("str_replace", "{{ 'aaa'.replace('a', 'b') }}|{{ 'aaa'.replace('a', 'b', 2) }}|{{ 'ab'.replace('', '-') }}", {}),
    ("str_case", "{{ 'hello world'.title() }}|{{ 'hELLO'.capitalize() }}|{{ 'Ab'.upper() }}{{ 'Ab'.lower() }}|{{ 'they\\'re bill\\'s'.title() }}|{{ '\u00df'.upper() }}|{{ 'aBc'.swapcase() }}", {}),
    ("str_find", "{{ 'hello'.find('l') }}|{{ 'hello'.rfind('l') }}|{{ 'hello'.find('z') }}|{{ 'hello'.count('l') }}|{{ 'h\u00e9llo'.find('l') }}|{{ 'hello'.index('e') }}", {}),
    ("str_index_missing", "{{ 'hello'.index('z') }}", {}),
    ("str_join", "{{ ', '.join(['a', 'b']) }}|{{ '-'.join('xyz') }}", {}),
    ("str_predicates", "{{ '123'.isdigit() }}{{ 'abc'.isalpha() }}{{ 'a1'.isalnum() }}{{ ' '.isspace() }}{{ 'ab'.islower() }}{{ 'AB'.isupper() }}{{ ''.isdigit() }}{{ 'A1'.isupper() }}", {}),
    ("str_pad", "[{{ 'ab'.center(6) }}][{{ 'ab'.center(7, '*') }}][{{ 'ab'.ljust(4) }}][{{ 'ab'.rjust(4, '0') }}][{{ '-5'.zfill(4) }}]", {}),
    ("str_partition", "{{ 'a=b=c'.partition('=') }}|{{ 'a=b=c'.rpartition('=') }}|{{ 'abc'.partition('z') }}", {}),
    ("str_format_method", "{{ '{} + {} = {}'.format(1, 2, 3) }}|{{ '{0}{1}{0}'.format('a', 'b') }}|{{ '{name}!'.format(name='x') }}|{{ '{:>5}|{:<4}|{:^5}'.format('a', 'b', 'c') }}|{{ '{:.2f}'.format(3.14159) }}|{{ '{{literal}}'.format() }}", {}),
    ("percent_format", "{{ '%s and %r, %d %05.2f %%' % ('a', 'b', 3, 2.5) }}|{{ '%s' % 'x' }}|{{ '%s' % [1] }}|{{ '%(a)s-%(b)d' % {'a': 'x', 'b': 2} }}|{{ '%x %X %o %e' % (255, 255, 8, 12345.678) }}|{{ '%-5s|%5s' % ('a', 'b') }}", {}),
    ("percent_format_few_args", "{{ '%s %s' % ('a',) }}", {}),
    ("percent_format_many_args", "{{ '%s' % ('a', 'b') }}", {}),
    ("str_unknown_method", "{{ 'abc'.nosuch() }}", {}),
    # filters
    ("f_length", "{{ 'h\u00e9\u4e2d' | length }}|{{ [1, 2] | length }}|{{ {'a': 1} | count }}|{{ missing | length }}", {}),
    ("f_default", "{{ missing | default('d') }}|{{ none | default('d') }}|{{ '' | default('d') }}|{{ '' | default('d', true) }}|{{ 0 | d(5, boolean=true) }}|{{ x | default }}", {"x": "set"}),
    ("f_trim", "[{{ '  a  ' | trim }}][{{ 'xxaxx' | trim('x') }}][{{ missing | trim }}]", {}),
    ("f_upper_lower_capitalize_title", "{{ 'abc' | upper }}|{{ 'ABC' | lower }}|{{ 'hELLO wORLD' | capitalize }}|{{ 'hello wORLD-foo (bar) x_y' | title }}|{{ \"they're\" | title }}", {}),
    ("f_join", "{{ [1, 2, 3] | join(', ') }}|{{ ['a', 'b'] | join }}|{{ users | join(', ', attribute='name') }}|{{ [none, true] | join('/') }}", {"users": [{"name": "ann"}, {"name": "bob"}]}),
    ("f_first_last", "{{ [1, 2, 3] | first }}|{{ [1, 2, 3] | last }}|{{ 'abc' | first }}|[{{ [] | first }}]|{{ {'k': 1, 'j': 2} | first }}", {}),
    ("f_list_reverse", "{{ 'abc' | list }}|{{ {'a': 1, 'b': 2} | list }}|{{ [1, 2, 3] | reverse | list }}|{{ 'abc' | reverse }}|{{ [] | list }}", {}),
    ("f_string_int_float", "{{ 12 | string }}|{{ [1] | string }}|{{ '42' | int + 1 }}|{{ '4.7' | int }}|{{ 'x' | int }}|{{ 'x' | int(7) }}|{{ 3.9 | int }}|{{ '0x1A' | int(0, 16) }}|{{ '1e3' | float }}|{{ 'x' | float }}|{{ 2 | float }}|{{ ' 12 ' | int }}|{{ true | int }}", {}),
    ("f_items", "{% for k, v in d | items %}{{ k }}:{{ v }},{% endfor %}|{{ d | items | list }}|{{ missing | items | list }}", {"d": {"z": 1, "a": [2]}}),
    ("f_items_error", "{{ [1] | items | list }}", {}),
    ("f_dictsort", "{{ d | dictsort }}|{{ d | dictsort(reverse=true) }}|{{ d | dictsort(by='value') }}", {"d": {"b": 1, "A": 3, "c": 2}}),
    ("f_map", "{{ users | map(attribute='name') | list }}|{{ ['a', 'b'] | map('upper') | join }}|{{ users | map(attribute='age', default=0) | list }}|{{ [' a ', 'b '] | map('trim') | list }}",
     {"users": [{"name": "ann", "age": 3}, {"name": "bob"}]}),
    ("f_selectattr", "{{ msgs | selectattr('role', 'equalto', 'user') | map(attribute='content') | join(',') }}|{{ msgs | rejectattr('role', 'eq', 'user') | list | length }}|{{ msgs | selectattr('tool_calls') | list | length }}|{{ msgs | selectattr('tool_calls', 'defined') | list | length }}|{{ msgs | rejectattr('tool_calls', 'undefined') | map(attribute='role') | first }}",
     {"msgs": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b", "tool_calls": [1]}, {"role": "user", "content": "c"}]}),
    ("f_select", "{{ [0, 1, 2, 3, 4] | select('odd') | list }}|{{ [0, 1, 2] | reject('odd') | list }}|{{ [0, 1, '', 'a', none] | select | list }}|{{ [1, 5, 10] | select('gt', 3) | list }}|{{ ['a', 1, 'b'] | select('string') | list }}|{{ [1, 2, 3] | select('in', [2, 3]) | list }}", {}),
    ("f_sort_unique", "{{ [3, 1, 2] | sort }}|{{ ['b', 'A', 'c'] | sort }}|{{ ['b', 'A', 'c'] | sort(case_sensitive=true) }}|{{ [3, 1] | sort(reverse=true) }}|{{ users | sort(attribute='age') | map(attribute='name') | join }}|{{ ['a', 'A', 'b', 'a'] | unique | list }}|{{ [1, 2, 1, 3] | unique | list }}",
     {"users": [{"name": "x", "age": 3}, {"name": "y", "age": 1}, {"name": "z", "age": 2}]}),
    ("f_min_max_sum", "{{ [3, 1, 2] | min }}|{{ [3, 1, 2] | max }}|{{ ['b', 'A'] | min }}|{{ [1, 2.5] | sum }}|{{ users | sum(attribute='age') }}|{{ [[1], [2]] | sum(start=[]) }}|[{{ [] | max }}]",
     {"users": [{"age": 3}, {"age": 4}]}),
    ("f_tojson", "{{ d | tojson }}|{{ 'caf\u00e9 \"q\" <b>\\n' | tojson }}|{{ [1, 2.5, none, true] | tojson }}|{{ {} | tojson }}|{{ [] | tojson }}|{{ 'x' | tojson(true) }}",
     {"d": {"name": "f", "description": "d\u00e9j\u00e0 \u2014 \U0001F600", "parameters": {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}}}),
    ("f_tojson_indent", "{{ d | tojson(indent=4) }}\n{{ d | tojson(indent=2, sort_keys=true) }}\n{{ [] | tojson(indent=2) }}\n{{ d | tojson(separators=(',', ':')) }}",
     {"d": {"z": [1, {"b": None}], "a": {}, "m": "x"}}),
    ("f_tojson_control_chars", "{{ s | tojson }}", {"s": "a\u0001\u001f\u007f\b\f\r\t\u2028"}),
    ("f_tojson_undefined", "{{ missing | tojson }}", {}),
    ("f_replace", "{{ 'aaa' | replace('a', 'b') }}|{{ 'aaa' | replace('a', 'b', 2) }}|{{ 5 | replace('5', 'five') }}", {}),
    ("f_round_abs", "{{ 2.5 | round }}|{{ 3.5 | round }}|{{ 2.675 | round(2) }}|{{ 2.1 | round(0, 'ceil') }}|{{ 2.9 | round(method='floor') }}|{{ 7 | round }}|{{ -3 | abs }}|{{ -2.5 | abs }}", {}),
    ("f_indent", "{{ 'a\\nb\\n\\nc' | indent }}|{{ 'a\\nb' | indent(2, true) }}|{{ 'a\\n\\nb' | indent(2, blank=true) }}|{{ 'x\\ny' | indent('>') }}", {}),
    ("f_center_wordcount_truncate", "[{{ 'ab' | center(6) }}]|{{ 'hello big world_x 42' | wordcount }}|{{ 'The quick brown fox jumps' | truncate(12) }}|{{ 'The quick brown fox jumps' | truncate(12, true) }}|{{ 'short' | truncate(10) }}", {}),
    ("f_batch", "{{ [1, 2, 3, 4, 5] | batch(2) | list }}|{{ [1, 2, 3] | batch(2, 0) | list }}", {}),
    ("f_escape_safe", "{{ '<a href=\"x\">&\\'</a>' | e }}|{{ '<b>' | safe }}", {}),
    ("f_format", "{{ '%s-%s' | format('a', 'b') }}|{{ '%(x)s' | format(x=1) }}", {}),
    ("f_attr", "[{{ d | attr('a') }}]|{{ (d | attr('items'))() | list }}", {"d": {"a": 1}}),
    ("f_chain", "{{ messages | map(attribute='role') | reject('equalto', 'system') | map('upper') | join('+') }}", {"messages": MSGS}),
    ("f_unknown", "{{ x | nosuchfilter }}", {"x": 1}),
    ("f_unknown_in_untaken_if", "{% if false %}{{ x | nosuchfilter }}{% endif %}ok", {}),
    ("filter_block", "{% filter upper %}hello {{ name }}{% endfilter %}", {"name": "bob"}),
    ("filter_block_chain", "{% filter trim | upper %}  x  {% endfilter %}", {}),
    # tests
    ("t_defined", "{{ x is defined }}{{ y is defined }}{{ y is undefined }}{{ x is not defined }}{{ n is defined }}", {"x": 1, "n": None}),
    ("t_none_bool", "{{ n is none }}{{ 0 is none }}{{ true is true }}{{ 1 is true }}{{ false is false }}{{ 0 is false }}{{ true is boolean }}{{ 1 is boolean }}", {"n": None}),
    ("t_types", "{{ 's' is string }}{{ 1 is string }}{{ {} is mapping }}{{ [] is mapping }}{{ [] is iterable }}{{ 's' is iterable }}{{ 1 is iterable }}{{ [] is sequence }}{{ {} is sequence }}{{ 1 is number }}{{ 1.5 is number }}{{ true is number }}{{ 's' is number }}{{ 1 is integer }}{{ 1.0 is integer }}{{ 1.0 is float }}{{ true is integer }}", {}),
    ("t_undefined_types", "{{ u is iterable }}{{ u is sequence }}{{ u is mapping }}{{ u is string }}{{ u is number }}{{ u is none }}{{ u is callable }}", {}),
    ("t_compare", "{{ 2 is eq 2 }}{{ 2 is equalto(3) }}{{ 2 is ne 3 }}{{ 3 is gt 2 }}{{ 3 is lt 2 }}{{ 3 is ge 3 }}{{ 'a' is in 'cat' }}{{ 2 is in [1, 2] }}{{ 2 is greaterthan 1 }}{{ [1, 2, 3] | select('==', 2) | list }}{{ [1, 5] | select('>=', 2) | list }}", {}),
    ("t_numbers", "{{ 3 is odd }}{{ 3 is even }}{{ 10 is divisibleby 5 }}{{ 10 is divisibleby(3) }}", {}),
    ("t_case", "{{ 'abc' is lower }}{{ 'ABC' is upper }}{{ 'aBc' is lower }}{{ '12' is lower }}", {}),
    ("t_callable_filter_test", "{{ range is callable }}{{ 'x' is callable }}{{ 'upper' is filter }}{{ 'nope' is filter }}{{ 'odd' is test }}", {}),
    ("t_not_precedence", "{{ not x is none }}|{{ x is not none and x }}|{{ (x is none) or 1 }}", {"x": "v"}),
    ("t_unknown", "{{ x is nosuchtest }}", {"x": 1}),
    ("t_tool_arguments_string", "{% for t in calls %}{% if t.arguments is string %}S:{{ t.arguments }}{% else %}J:{{ t.arguments | tojson }}{% endif %};{% endfor %}",
     {"calls": [{"arguments": "{\"a\": 1}"}, {"arguments": {"a": 1, "b": [True]}}]}),
    # statements: if / for / set / namespace / macros / with / loop controls
    ("if_elif_else", "{% for x in [1, 2, 3, 4] %}{% if x == 1 %}one{% elif x == 2 %}two{% elif x == 3 %}three{% else %}many{% endif %} {% endfor %}", {}),
    ("if_tuple_condition", "{% if 0, 0 %}tuple-truthy{% endif %}", {}),
    ("for_loop_vars", "{% for x in ['a', 'b', 'c'] %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}|{% endfor %}", {}),
    ("for_prev_next", "{% for x in [1, 2, 3] %}[{{ loop.previtem }}-{{ loop.nextitem }}]{% endfor %}", {}),
    ("for_cycle_changed", "{% for x in [1, 1, 2] %}{{ loop.cycle('a', 'b') }}{{ loop.changed(x) }} {% endfor %}", {}),
    ("for_else", "{% for x in [] %}x{% else %}empty{% endfor %}|{% for x in missing %}x{% else %}none{% endfor %}", {}),
    ("for_filter", "{% for x in range(10) if x is odd %}{{ x }}{{ loop.index }}{{ loop.last }},{% endfor %}", {}),
    ("for_unpack", "{% for a, b in [(1, 2), [3, 4]] %}{{ a + b }},{% endfor %}{% for k, v in {'x': 1}.items() %}{{ k }}{{ v }}{% endfor %}", {}),
    ("for_unpack_error", "{% for a, b in [(1, 2, 3)] %}{% endfor %}", {}),
    ("for_dict_and_string", "{% for k in {'b': 1, 'a': 2} %}{{ k }}{% endfor %}|{% for c in 'h\u00e9' %}[{{ c }}]{% endfor %}", {}),
    ("for_nested_loop", "{% for a in [1, 2] %}{% for b in 'xy' %}{{ loop.index }}{{ b }}{% endfor %}{{ loop.index }};{% endfor %}", {}),
    ("for_break_continue", "{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 5 %}{% break %}{% endif %}{{ x }}{% endfor %}", {}),
    ("for_over_none_error", "{% for x in n %}{% endfor %}", {"n": None}),
    ("range_forms", "{{ range(3) | list }}|{{ range(1, 4) | list }}|{{ range(10, 0, -3) | list }}|{{ range(0) | list }}", {}),
    ("range_too_big", "{{ range(1000000) | length }}", {}),
    ("set_scoping", "{% set x = 1 %}{% for i in [1, 2] %}{{ x }}{% set x = x + 10 %}{{ x }} {% endfor %}{{ x }}", {}),
    ("set_in_if_leaks", "{% if true %}{% set y = 'in-if' %}{% endif %}{{ y }}", {}),
    ("set_loop_local_each_iteration", "{% for i in [1, 2, 3] %}[{{ z }}]{% set z = i %}{% endfor %}[{{ z }}]", {}),
    ("set_tuple", "{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set (c, d) = ['x', 'y'] %}{{ c }}{{ d }}", {}),
    ("set_block", "{% set greeting %}Hello {{ name }}!{% endset %}[{{ greeting }}]{% set up | upper %}shout{% endset %}{{ up }}", {"name": "ann"}),
    ("set_overrides_context", "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}{{ add_generation_prompt }}", {}),
    ("namespace", "{% set ns = namespace(count=0, found=false) %}{% for x in [1, 2, 3] %}{% set ns.count = ns.count + x %}{% if x == 2 %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.count }}{{ ns.found }}{{ ns.missing is defined }}", {}),
    ("namespace_new_attr", "{% set ns = namespace() %}{% set ns.a = 'A' %}{{ ns.a }}{{ ns['a'] }}", {}),
    ("namespace_from_dict", "{% set ns = namespace({'a': 1}, b=2) %}{{ ns.a }}{{ ns.b }}", {}),
    ("set_attr_non_namespace", "{% set d = {} %}{% set d.x = 1 %}", {}),
    ("macro", "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('a') }} {{ greet('b', '?') }} {{ greet(punct='.', name='c') }}", {}),
    ("macro_missing_arg", "{% macro m(a, b) %}[{{ a }}][{{ b }}]{% endmacro %}{{ m(1) }}", {}),
    ("macro_varargs_kwargs", "{% macro m(a) %}{{ a }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, 3, x=4) }}", {}),
    ("macro_recursion", "{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * (fact(n - 1) | int) }}{% endif %}{% endmacro %}{{ fact(5) }}", {}),
    ("macro_sees_outer", "{% set g = 'G' %}{% macro m() %}{{ g }}{% endmacro %}{{ m() }}", {}),
    ("macro_render_json", "{% macro render(v) %}{% if v is mapping %}{{ '{' }}{% for k, x in v.items() %}{{ k }}:{{ render(x) }}{% if not loop.last %},{% endif %}{% endfor %}{{ '}' }}{% elif v is string %}'{{ v }}'{% else %}{{ v }}{% endif %}{% endmacro %}{{ render(d) }}",
     {"d": {"a": {"b": "c", "n": 1}, "z": True}}),
    ("with_block", "{% with a = 1, b = 'x' %}{{ a }}{{ b }}{% endwith %}[{{ a }}]", {}),
    ("generation_block", "{% for m in messages %}{% if m.role == 'assistant' %}{% generation %}{{ m.content }}{% endgeneration %}{% else %}{{ m.content }}{% endif %}|{% endfor %}", {"messages": MSGS}),
    ("block_tag", "a{% block body %}B{% endblock %}c", {}),
    ("print_tag", "{% print 'p' ~ 1 %}", {}),
    ("dict_global", "{{ dict(a=1, b='x') }}|{{ dict([('k', 'v')]) }}", {}),
    ("joiner_cycler", "{% set j = joiner('|') %}{% for x in 'abc' %}{{ j() }}{{ x }}{% endfor %} {% set c = cycler('o', 'e') %}{{ c.next() }}{{ c.next() }}{{ c.next() }}{{ c.current }}", {}),
    # raise_exception
    ("raise_exception", "{% if messages[0].role != 'user' %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}", {"messages": MSGS}),
    ("raise_exception_unicode", "{{ raise_exception('Ung\u00fcltig: ' ~ x) }}", {"x": 3}),
    ("call_undefined", "{{ nosuch() }}", {}),
    ("call_non_callable", "{{ 'x'() }}", {}),
    # syntax errors (must be errors, with a line number, not crashes)
    ("syn_unclosed_if", "{% if true %}x", {}),
    ("syn_unclosed_for", "{% for x in y %}x{% endif %}", {}),
    ("syn_unknown_tag", "{% frobnicate %}", {}),
    ("syn_stray_endfor", "a\nb {% endfor %}", {}),
    ("syn_unclosed_var", "{{ x ", {}),
    ("syn_unclosed_string", "{{ 'abc }}", {}),
    ("syn_bad_expr", "{{ 1 + }}", {}),
    ("syn_empty_var", "{{ }}", {}),
    ("syn_unbalanced", "{{ (1 }}", {}),
    ("syn_unclosed_comment", "{# never closed", {}),
    ("syn_bad_char", "{{ x $ y }}", {}),
    ("syn_break_outside_loop", "{% break %}", {}),
    ("syn_elif_after_else", "{% if a %}{% else %}{% elif b %}{% endif %}", {}),
    ("syn_set_without_value", "{% set %}", {}),
    ("syn_chained_is", "{{ x is defined is defined }}", {}),
]


# ---------------------------------------------------------------------------------------------
# Conversations and render settings

TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "description": "Get the current weather in a city \u2014 in \u00b0C.",
                                      "parameters": {"type": "object", "properties": {
                                          "city": {"type": "string", "description": "City name, e.g. Z\u00fcrich"},
                                          "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
                                          "required": ["city"]}}},
    {"type": "function", "function": {"name": "add", "description": "Add two integers.",
                                      "parameters": {"type": "object", "properties": {
                                          "a": {"type": "integer"}, "b": {"type": "integer"}}, "required": ["a", "b"]}}},
]

CONVERSATIONS = {
    "single_user": [{"role": "user", "content": "Hello! How are you?"}],
    "system_user": [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "What is the capital of France?"},
    ],
    "multi_turn": [
        {"role": "system", "content": "Answer in one sentence."},
        {"role": "user", "content": "Name a prime number."},
        {"role": "assistant", "content": "  Seven is a prime number.  "},
        {"role": "user", "content": "And an even one?"},
    ],
    "no_system_multi": [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello! What can I do for you?"},
        {"role": "user", "content": "Tell me a joke."},
        {"role": "assistant", "content": "Why did the chicken cross the road?"},
    ],
    "unicode": [
        {"role": "user", "content": "Gr\u00fc\u00dfe aus K\u00f6ln \U0001F44B \u2014 \u4f60\u597d\uff0c\u4e16\u754c\uff01 \"quoted\" and 'single' \\ backslash\nsecond line\ttab"},
        {"role": "assistant", "content": "\u3053\u3093\u306b\u3061\u306f \U0001F600"},
        {"role": "user", "content": "\u0645\u0631\u062d\u0628\u0627 <|im_end|> literal"},
    ],
    "thinking": [
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": "<think>\nSimple arithmetic.\n</think>\n\nIt is 4."},
        {"role": "user", "content": "And 3+3?"},
    ],
    "thinking_last_assistant": [
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": "<think>\nAdd them.\n</think>\n\n4", "reasoning_content": None},
    ],
    "tool_calls_qwen": [
        {"role": "system", "content": "You can call tools."},
        {"role": "user", "content": "Weather in Paris, and 2+3?"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}},
            {"type": "function", "function": {"name": "add", "arguments": "{\"a\": 2, \"b\": 3}"}}]},
        {"role": "tool", "content": "{\"temperature\": 21}"},
        {"role": "tool", "content": "5"},
        {"role": "assistant", "content": "It is 21 \u00b0C in Paris, and 2+3=5."},
        {"role": "user", "content": "<tool_response>\nnot really\n</tool_response>"},
    ],
    "tool_calls_deepseek": [
        {"role": "system", "content": "You can call tools."},
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}},
            {"type": "function", "function": {"name": "add", "arguments": "{\"a\": 2, \"b\": 3}"}}]},
        {"role": "tool", "content": "{\"temperature\": 21}"},
        {"role": "tool", "content": "5"},
        {"role": "assistant", "content": "21 \u00b0C."},
        {"role": "user", "content": "Thanks"},
    ],
    "two_systems": [
        {"role": "system", "content": "First rule."},
        {"role": "system", "content": "Second rule."},
        {"role": "user", "content": "Go."},
    ],
    "content_parts": [
        {"role": "user", "content": [{"type": "text", "text": "Describe this."}, {"type": "text", "text": "Briefly."}]},
    ],
}

# Hand-written templates in the style of common families (not copies of any model's file).
FAMILIES = {
    "chatml": (
        "{% for message in messages %}"
        "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
        "{% endfor %}"
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
    ),
    "llama3_style": """{{- bos_token }}
{%- if custom_tools is defined %}
    {%- set tools = custom_tools %}
{%- endif %}
{%- if not tools_in_user_message is defined %}
    {%- set tools_in_user_message = true %}
{%- endif %}
{%- if not date_string is defined %}
    {%- set date_string = "26 Jul 2024" %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}

{#- Pull the system message out of the list #}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}

{{- "<|start_header_id|>system<|end_header_id|>\\n\\n" }}
{%- if tools is not none %}
    {{- "Environment: ipython\\n" }}
{%- endif %}
{{- "Cutting Knowledge Date: December 2023\\n" }}
{{- "Today Date: " + date_string + "\\n\\n" }}
{%- if tools is not none and not tools_in_user_message %}
    {{- "You have access to the following functions.\\n\\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\\n\\n" }}
    {%- endfor %}
{%- endif %}
{{- system_message }}
{{- "<|eot_id|>" }}

{%- if tools_in_user_message and not tools is none %}
    {%- if messages | length != 0 %}
        {%- set first_user_message = messages[0]['content']|trim %}
        {%- set messages = messages[1:] %}
    {%- else %}
        {{- raise_exception("Cannot put tools in the first user message when there's no first user message!") }}
    {%- endif %}
    {{- '<|start_header_id|>user<|end_header_id|>\\n\\n' -}}
    {{- "Given the following functions, respond with a JSON function call.\\n\\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\\n\\n" }}
    {%- endfor %}
    {{- first_user_message + "<|eot_id|>"}}
{%- endif %}

{%- for message in messages %}
    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}
        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' }}
    {%- elif 'tool_calls' in message %}
        {%- if not message.tool_calls|length == 1 %}
            {{- raise_exception("Only single tool calls are supported.") }}
        {%- endif %}
        {%- set tool_call = message.tool_calls[0].function %}
        {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}
        {{- '{"name": "' + tool_call.name + '", ' }}
        {{- '"parameters": ' }}
        {{- tool_call.arguments | tojson }}
        {{- "}" }}
        {{- "<|eot_id|>" }}
    {%- elif message.role == "tool" or message.role == "ipython" %}
        {{- "<|start_header_id|>ipython<|end_header_id|>\\n\\n" }}
        {%- if message.content is mapping or message.content is iterable %}
            {{- message.content | tojson }}
        {%- else %}
            {{- message.content }}
        {%- endif %}
        {{- "<|eot_id|>" }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}
{%- endif %}
""",
    "mistral_style": (
        "{%- if messages[0]['role'] == 'system' %}"
        "{%- set system_message = messages[0]['content'] %}"
        "{%- set loop_messages = messages[1:] %}"
        "{%- else %}{%- set loop_messages = messages %}{%- endif %}"
        "{{- bos_token }}"
        "{%- for message in loop_messages %}"
        "{%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
        "{{- raise_exception('After the optional system message, conversation roles must alternate user/assistant/user/assistant/...') }}"
        "{%- endif %}"
        "{%- if message['role'] == 'user' %}"
        "{%- if loop.first and system_message is defined %}"
        "{{- ' [INST] ' + system_message + '\\n\\n' + message['content'] + ' [/INST]' }}"
        "{%- else %}{{- ' [INST] ' + message['content'] + ' [/INST]' }}{%- endif %}"
        "{%- elif message['role'] == 'assistant' %}"
        "{{- ' ' + message['content'] + eos_token}}"
        "{%- else %}{{- raise_exception('Only user and assistant roles are supported, with the exception of an initial optional system message!') }}"
        "{%- endif %}"
        "{%- endfor %}"
    ),
    "gemma_style": (
        "{{ bos_token }}"
        "{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}"
        "{% for message in messages %}"
        "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
        "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
        "{% endif %}"
        "{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}"
        "{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}"
        "{% endfor %}"
        "{% if add_generation_prompt %}{{'<start_of_turn>model\\n'}}{% endif %}"
    ),
    "qwen2_style": """{%- if tools %}
    {{- '<|im_start|>system\\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are a helpful assistant.' }}
    {%- endif %}
    {{- "\\n\\n# Tools\\n\\n<tools>" }}
    {%- for tool in tools %}
        {{- "\\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\\n</tools><|im_end|>\\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}
    {%- else %}
        {{- '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\\n<tool_call>\\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\\n<tool_response>\\n' }}
        {{- message.content }}
        {{- '\\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\\n' }}
{%- endif %}
""",
    "phi3_style": (
        "{% for message in messages %}"
        "{% if message['role'] == 'system' %}{{'<|system|>\\n' + message['content'] + '<|end|>\\n'}}"
        "{% elif message['role'] == 'user' %}{{'<|user|>\\n' + message['content'] + '<|end|>\\n'}}"
        "{% elif message['role'] == 'assistant' %}{{'<|assistant|>\\n' + message['content'] + '<|end|>\\n'}}"
        "{% endif %}"
        "{% endfor %}"
        "{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% else %}{{ eos_token }}{% endif %}"
    ),
    "content_parts_style": (
        "{%- for message in messages %}"
        "{{- '<|' + message.role + '|>' }}"
        "{%- if message.content is string %}{{- message.content }}"
        "{%- else %}{%- for part in message.content if part.type == 'text' %}{{- part.text }}{% if not loop.last %} {% endif %}{%- endfor %}"
        "{%- endif %}"
        "{{- '\\n' }}"
        "{%- endfor %}"
        "{%- if add_generation_prompt %}{{- '<|assistant|>' }}{%- endif %}"
    ),
    "documents_style": (
        "{%- if documents %}{{- 'Documents:\\n' }}"
        "{%- for doc in documents %}{{- '[' ~ loop.index ~ '] ' ~ doc.title ~ ': ' ~ doc.text ~ '\\n' }}{%- endfor %}"
        "{%- endif %}"
        "{%- for message in messages %}{{- message.role | capitalize ~ ': ' ~ message.content ~ '\\n' }}{%- endfor %}"
        "{%- if add_generation_prompt %}{{- 'Assistant:' }}{%- endif %}"
    ),
}

FAMILY_TOKENS = {
    "chatml": {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"},
    "llama3_style": {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
    "mistral_style": {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"},
    "gemma_style": {"bos_token": "<bos>", "eos_token": "<eos>", "pad_token": "<pad>", "unk_token": "<unk>"},
    "qwen2_style": {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"},
    "phi3_style": {"bos_token": "<s>", "eos_token": "<|endoftext|>", "unk_token": "<unk>", "pad_token": "<|endoftext|>"},
    "content_parts_style": {"eos_token": "</s>"},
    "documents_style": {"eos_token": "</s>"},
}

DOCUMENTS = [{"title": "Tides", "text": "The Moon causes tides."}, {"title": "Caf\u00e9", "text": "Open at 8 \u2014 closes at 18."}]

# (conversation, settings) pairs rendered with every template; settings are apply_chat_template kwargs.
RUNS = [
    ("single_user", {"add_generation_prompt": True}),
    ("single_user", {"add_generation_prompt": False}),
    ("system_user", {"add_generation_prompt": True}),
    ("multi_turn", {"add_generation_prompt": True}),
    ("multi_turn", {"add_generation_prompt": False}),
    ("no_system_multi", {"add_generation_prompt": False}),
    ("no_system_multi", {"add_generation_prompt": True}),
    ("unicode", {"add_generation_prompt": True}),
    ("thinking", {"add_generation_prompt": True}),
    ("thinking", {"add_generation_prompt": True, "enable_thinking": False}),
    ("thinking_last_assistant", {"add_generation_prompt": False}),
    ("single_user", {"add_generation_prompt": True, "enable_thinking": False}),
    ("single_user", {"add_generation_prompt": True, "enable_thinking": True}),
    ("tool_calls_qwen", {"add_generation_prompt": True, "tools": TOOLS}),
    ("tool_calls_qwen", {"add_generation_prompt": False}),
    ("tool_calls_deepseek", {"add_generation_prompt": True, "tools": TOOLS}),
    ("system_user", {"add_generation_prompt": True, "tools": TOOLS}),
    ("two_systems", {"add_generation_prompt": True}),
    ("content_parts", {"add_generation_prompt": True}),
    ("system_user", {"add_generation_prompt": True, "documents": DOCUMENTS}),
    ("single_user", {"add_generation_prompt": True, "tools": []}),
    ("multi_turn", {"continue_final_message": True}),
    ("no_system_multi", {"continue_final_message": True}),
]


# ---------------------------------------------------------------------------------------------
# Random expressions (differential testing of operators, filters, tests and methods together)

RANDOM_CONTEXT = {"s": "abc", "n": 7, "f": 1.5, "l": [3, 1, 2], "d": {"a": 1, "b": "two"},
                  "m": {"role": "user", "content": "Hi there"}, "msgs": [{"role": "user"}]}
R_ATOMS = ["1", "0", "-3", "2.5", "0.1", "1e3", "'ab'", "'a b c'", "''", "'H\u00e9'", "none", "true", "false", "[1, 2, 3]",
           "['x', 'y']", "[]", "{'a': 1, 'b': 'z'}", "{}", "(1, 2)", "s", "n", "f", "l", "d", "u", "m.role", "m['content']",
           "l[0]", "l[-1]", "s[1:]", "l[::-1]", "d.a", "d['b']", "m", "msgs|length", "range(3)", "range(5)[1::2]"]
R_BINOPS = ["+", "-", "*", "/", "//", "%", "~", "==", "!=", "<", ">=", "in", "not in", "and", "or", "**"]
R_FILTERS = ["length", "upper", "lower", "trim", "string", "int", "float", "list", "first", "last", "reverse|list", "abs",
             "round", "tojson", "join(',')", "default('D')", "capitalize", "title", "sort|list", "unique|list", "sum", "min",
             "max", "count", "items|list", "replace('a','Z')", "center(7)", "indent(2)", "wordcount", "e",
             "select('odd')|list", "map('string')|list", "batch(2)|list", "dictsort", "tojson(indent=2)", "truncate(5)",
             "format(1)", "safe", "reject('none')|list", "selectattr('role')|list"]
R_TESTS = ["defined", "none", "string", "number", "integer", "float", "mapping", "iterable", "sequence", "odd", "even",
           "true", "false", "boolean", "lower", "upper", "divisibleby(3)", "in([1, 'abc'])"]
R_METHODS = ["upper()", "strip()", "split()", "split(' ')", "startswith('a')", "endswith('c')", "replace('a', 'x')",
             "title()", "find('b')", "count('a')", "lstrip('a')", "rstrip()", "capitalize()", "isdigit()", "zfill(5)",
             "center(6, '*')", "splitlines()", "partition(' ')", "join(['1','2'])", "ljust(4)", "format(1)", "rsplit(' ', 1)"]


def random_expression(rng, depth=0):
    r = rng.random()
    if depth > 2 or r < 0.3:
        return rng.choice(R_ATOMS)
    if r < 0.5:
        return "(%s %s %s)" % (random_expression(rng, depth + 1), rng.choice(R_BINOPS), random_expression(rng, depth + 1))
    if r < 0.65:
        return "(%s | %s)" % (random_expression(rng, depth + 1), rng.choice(R_FILTERS))
    if r < 0.75:
        return "(%s is %s%s)" % (random_expression(rng, depth + 1), rng.choice(["", "not "]), rng.choice(R_TESTS))
    if r < 0.85:
        return "%s.%s" % (rng.choice(["s", "'a bc'", "'  X '", "m.content"]), rng.choice(R_METHODS))
    if r < 0.92:
        return "(%s if %s else %s)" % (random_expression(rng, depth + 1), random_expression(rng, depth + 1),
                                       random_expression(rng, depth + 1))
    return "(not %s)" % random_expression(rng, depth + 1)


RANDOM_TEMPLATE_CONTEXT = {"x": True, "l": [1, 2, 3]}
RT_TEXTS = ["", " ", "  ", "\t", "\n", "\n  ", "  \n", "a", "b ", " c", "x\n", "\n\ny", " \t \n", "\u00a0", "z"]


def random_template(rng, depth=0):
    def mod():
        return rng.choice(["", "", "-", "+"])

    def tag(body):
        return "{%" + mod() + " " + body + " " + mod() + "%}"

    def var(e):
        return "{{" + rng.choice(["", "-"]) + " " + e + " " + rng.choice(["", "-"]) + "}}"

    out = ""
    for _ in range(rng.randint(1, 4)):
        out += rng.choice(RT_TEXTS)
        r = rng.random()
        if depth < 3 and r < 0.25:
            out += tag("if " + rng.choice(["true", "false", "x", "not x"])) + random_template(rng, depth + 1)
            if rng.random() < 0.5:
                out += tag("else") + random_template(rng, depth + 1)
            out += tag("endif")
        elif depth < 3 and r < 0.45:
            out += tag("for i in " + rng.choice(["[1, 2]", "l", "[]"])) + random_template(rng, depth + 1) + tag("endfor")
        elif r < 0.6:
            out += var(rng.choice(["x", "i", "'v'", "loop.index", "l|length"]))
        elif r < 0.7:
            out += "{#" + mod() + " c " + mod() + "#}"
        elif r < 0.8:
            out += tag("set y = 1")
        elif r < 0.85:
            out += "{%" + mod() + " raw %}" + rng.choice(RT_TEXTS) + "{{ r }}{%" + mod() + " endraw " + mod() + "%}"
        out += rng.choice(RT_TEXTS)
    return out


def special_tokens_map(config):
    """transformers' special_tokens_map for a tokenizer_config.json: each attribute that is set (truthy)."""
    out = {}
    for key in ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"]:
        v = config.get(key)
        if isinstance(v, dict):
            v = v.get("content")
        if v:
            out[key] = v
    extra = config.get("additional_special_tokens") or []
    extra = [t["content"] if isinstance(t, dict) else t for t in extra]
    if extra:
        out["additional_special_tokens"] = extra
    return out


def apply_chat_template(template, tokens_map, messages, settings):
    """What transformers' apply_chat_template(tokenize=False, **settings) renders."""
    settings = dict(settings)
    add_generation_prompt = settings.pop("add_generation_prompt", False)
    continue_final_message = settings.pop("continue_final_message", False)
    tools = settings.pop("tools", None)
    documents = settings.pop("documents", None)
    context = dict(tokens_map)
    context.update(settings)  # extra kwargs override special tokens, as in transformers
    result = render(template, dict(messages=messages, tools=tools, documents=documents,
                                   add_generation_prompt=add_generation_prompt, **context))
    if continue_final_message and "output" in result:
        final = messages[-1]["content"]
        if isinstance(final, (list, tuple)):
            final = final[-1]["text"]
        final = final.strip()
        text = result["output"]
        try:
            result["output"] = text[: text.rindex(final) + len(final)].rstrip()
        except ValueError:
            result = {"error": "runtime", "message": "the final message is not in the rendered chat"}
    return result


def main():
    features = []
    for name, template, context in FEATURES:
        rec = {"name": name, "template": template, "context": context}
        rec.update(render(template, context))
        features.append(rec)

    fixtures = []
    for fixture in ["qwen3", "deepseek_v3"]:
        path = os.path.join(FIXTURES, fixture, "tokenizer_config.json")
        with open(path, encoding="utf-8") as f:
            config = json.load(f)
        template = config["chat_template"]
        tokens_map = special_tokens_map(config)
        for conv, settings in RUNS:
            rec = {"fixture": fixture, "template_sha256": hashlib.sha256(template.encode()).hexdigest(),
                   "conversation": conv, "settings": settings, "special_tokens": tokens_map}
            rec.update(apply_chat_template(template, tokens_map, CONVERSATIONS[conv], settings))
            fixtures.append(rec)

    families = []
    for fam, template in FAMILIES.items():
        for conv, settings in RUNS:
            rec = {"family": fam, "conversation": conv, "settings": settings, "special_tokens": FAMILY_TOKENS[fam]}
            rec.update(apply_chat_template(template, FAMILY_TOKENS[fam], CONVERSATIONS[conv], settings))
            families.append(rec)

    rng = random.Random(20240601)
    random_cases = []
    for _ in range(1500):
        template = "{{ %s }}" % random_expression(rng)
        rec = {"template": template}
        rec.update(render(template, copy.deepcopy(RANDOM_CONTEXT)))  # some filters mutate their input in jinja2
        random_cases.append(rec)

    rng = random.Random(20240602)
    random_templates = []
    for _ in range(1000):
        template = random_template(rng) + ("\n" if rng.random() < 0.3 else "")
        rec = {"template": template}
        rec.update(render(template, copy.deepcopy(RANDOM_TEMPLATE_CONTEXT)))
        random_templates.append(rec)

    out = {
        "generator": "cppformers/tokenizers/testdata/make_chat_goldens.py",
        "jinja2_version": jinja2.__version__,
        "python_version": sys.version.split()[0],
        "family_templates": FAMILIES,
        "conversations": CONVERSATIONS,
        "features": features,
        "fixtures": fixtures,
        "families": families,
        "random_context": RANDOM_CONTEXT,
        "random_expressions": random_cases,
        "random_template_context": RANDOM_TEMPLATE_CONTEXT,
        "random_templates": random_templates,
    }
    dest = os.path.join(HERE, "chat_goldens.json")
    with open(dest, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    n_err = sum("error" in r for r in features + fixtures + families + random_cases + random_templates)
    print("wrote %s: %d features, %d fixture renders, %d family renders, %d random expressions, %d random templates "
          "(%d errors expected)" % (dest, len(features), len(fixtures), len(families), len(random_cases),
                                    len(random_templates), n_err))


if __name__ == "__main__":
    main()
