#!/usr/bin/env python3
"""Renders a tokenizer_config.json chat_template with Jinja2 the way transformers' apply_chat_template does
(ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols, tojson without ASCII escapes,
raise_exception, the special tokens as variables), for every conversation of a cases file, and writes the cases with
their "rendered" prompts: the recorded reference ChatTemplateTest holds Jinjava's output to.

usage: chat_template_reference.py --config tokenizer_config.json --cases cases.json --out rendered.json
"""
import argparse, json
from jinja2.exceptions import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment


def raise_exception(message):
    raise TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--config", required=True)
    p.add_argument("--cases", required=True)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    config = json.load(open(a.config, encoding="utf-8"))
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    template = env.from_string(config["chat_template"])
    special = {k: config[k] for k in ("bos_token", "eos_token", "unk_token", "pad_token") if config.get(k)}
    cases = json.load(open(a.cases, encoding="utf-8"))
    for case in cases:
        case["rendered"] = template.render(messages=case["messages"],
                                           add_generation_prompt=case["add_generation_prompt"], **special)
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(cases, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
