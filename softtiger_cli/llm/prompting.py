"""Prompt layouts per model family, kept as segments so note text is never parsed as special tokens.

A prompt is a list of (text, is_template) pieces: template pieces may contain special tokens (ChatML's
<|im_start|>, TigerBot's `### Instruction:` marker); content pieces are tokenized as plain text, so a note
that contains `<|im_end|>` or `### Response:` cannot break out of its place.
"""

from __future__ import annotations

from softtiger_cli.llm.base import Segment

TIGERBOT_INSTRUCTION = "\n\n### Instruction:\n"
TIGERBOT_RESPONSE = "\n\n### Response:\n"
_SENTINEL = "\x00SOFTTIGER_CONTENT_{}\x00"


def tigerbot(system: str, user: str) -> list[Segment]:
    """SoftTiger/TigerBot: no system role, so the fixed instructions open the instruction turn."""
    return [
        Segment(TIGERBOT_INSTRUCTION, True),
        Segment(system + "\n\n" + user, False),
        Segment(TIGERBOT_RESPONSE, True),
    ]


MAX_TEMPLATE_CHARS = 64 * 1024  # a chat template, or what it renders around the messages


def _sandbox():
    """Jinja's immutable sandbox (no attribute tricks, no mutation of the messages, no file or module
    access), with `*` and `**` bounded so a hostile template cannot build gigabyte strings."""
    from jinja2.exceptions import SecurityError, TemplateError
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class BoundedSandbox(ImmutableSandboxedEnvironment):
        intercepted_binops = frozenset(["*", "**"])

        def call_binop(self, context, operator, left, right):  # type: ignore[no-untyped-def]
            if operator == "*":
                for seq, times in ((left, right), (right, left)):
                    if isinstance(seq, (str, list, tuple)) and isinstance(times, int) \
                            and len(seq) * times > MAX_TEMPLATE_CHARS:
                        raise SecurityError("the template builds an oversized value")
            if operator == "**" and isinstance(right, (int, float)) and abs(right) > 64:
                raise SecurityError("the template raises to an oversized power")
            return super().call_binop(context, operator, left, right)

    def raise_exception(message: object = "") -> None:
        raise TemplateError(str(message))

    env = BoundedSandbox(trim_blocks=True, lstrip_blocks=True, autoescape=False,
                         extensions=["jinja2.ext.loopcontrols"])
    env.globals["raise_exception"] = raise_exception
    return env


def render_chat_template(template: str, system: str, user: str, bos: str = "", eos: str = "") -> list[Segment]:
    """Render a GGUF chat template in Jinja's immutable sandbox (a template cannot run code).

    The template sees placeholder messages, never the note: the note is spliced in afterwards as a
    plain-text segment, so neither the template nor the tokenizer's special tokens can act on it.
    """
    if len(template) > MAX_TEMPLATE_CHARS:
        raise ValueError("chat template is implausibly long")
    env = _sandbox()
    messages = [
        {"role": "system", "content": _SENTINEL.format(0)},
        {"role": "user", "content": _SENTINEL.format(1)},
    ]
    rendered = env.from_string(template).render(
        messages=messages, add_generation_prompt=True, bos_token=bos, eos_token=eos
    )
    if len(rendered) > MAX_TEMPLATE_CHARS:
        raise ValueError("chat template rendered an implausibly long prompt")
    segments: list[Segment] = []
    rest = rendered
    for index, content in enumerate((system, user)):
        marker = _SENTINEL.format(index)
        if marker not in rest:
            raise ValueError("chat template dropped a message")
        head, rest = rest.split(marker, 1)
        if head:
            segments.append(Segment(head, True))
        segments.append(Segment(content, False))
    if rest:
        segments.append(Segment(rest, True))
    return segments


def plain_text(segments: list[Segment]) -> str:
    return "".join(s.text for s in segments)
