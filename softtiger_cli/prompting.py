"""Prompt layouts per model family, kept as segments so note text is never parsed as special tokens.

A prompt is a list of (text, is_template) pieces: template pieces may contain special tokens (ChatML's
<|im_start|>, TigerBot's `### Instruction:` marker); content pieces are tokenized as plain text, so a note
that contains `<|im_end|>` or `### Response:` cannot break out of its place.
"""

from __future__ import annotations

from dataclasses import dataclass

TIGERBOT_INSTRUCTION = "\n\n### Instruction:\n"
TIGERBOT_RESPONSE = "\n\n### Response:\n"
_SENTINEL = "\x00SOFTTIGER_CONTENT_{}\x00"


@dataclass(frozen=True)
class Segment:
    text: str
    template: bool  # True: may hold special tokens; False: plain content


def tigerbot(system: str, user: str) -> list[Segment]:
    """SoftTiger/TigerBot: no system role, so the fixed instructions open the instruction turn."""
    return [
        Segment(TIGERBOT_INSTRUCTION, True),
        Segment(system + "\n\n" + user, False),
        Segment(TIGERBOT_RESPONSE, True),
    ]


def render_chat_template(template: str, system: str, user: str, bos: str = "", eos: str = "") -> list[Segment]:
    """Render a GGUF chat template in Jinja's immutable sandbox (a template cannot run code)."""
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, autoescape=False)
    messages = [
        {"role": "system", "content": _SENTINEL.format(0)},
        {"role": "user", "content": _SENTINEL.format(1)},
    ]
    rendered = env.from_string(template).render(
        messages=messages, add_generation_prompt=True, bos_token=bos, eos_token=eos
    )
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
