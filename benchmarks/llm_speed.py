"""Load time, prompt and generation speed, and peak memory of the installed language models
(`vidseek models install llm llm-small llm-tiny`), each in a fresh process.

    python benchmarks/llm_speed.py                 # llm-small and llm
    python benchmarks/llm_speed.py llm-tiny --json

For each model: seconds to load, then three calls on a ~700-token transcript: a short open
answer, a JSON answer constrained by a schema (parsed), and yes/no probabilities for a
relevant and an unrelated passage. Prints the machine's load average beside the numbers: on
shared cores they move with it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

TRANSCRIPT = "\n".join(
    f"[{m:02d}:{s:02d}] {line}" for (m, s), line in zip(
        [(i // 2, (i % 2) * 30) for i in range(40)],
        [
            "Welcome back to the kitchen, today we are making a vegetable soup.",
            "First chop two onions and three carrots into small pieces.",
            "Heat a spoon of olive oil in the big pot on medium heat.",
            "Add the onions and stir them for about five minutes.",
            "Now the carrots go in, together with two sticks of celery.",
            "Pour in one and a half litres of vegetable stock.",
            "Bring everything to the boil, then turn the heat down.",
            "Let the soup simmer for twenty-five minutes with the lid on.",
            "While it simmers, we can prepare the herbs: parsley and thyme.",
            "Wash the parsley and chop it finely, stalks and all.",
        ] * 4))
QUESTION = "How long should the soup simmer?"
SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"},
                                           "time": {"type": "string"}},
          "required": ["answer", "time"]}


def measure(name: str) -> dict:
    from vidseek.models import resolve
    from vidseek.models.scoring import yes_probability

    model = resolve("chat", name)
    began = time.perf_counter()
    model.load()
    load = time.perf_counter() - began
    messages = [{"role": "system", "content": "Answer from the transcript, briefly."},
                {"role": "user", "content": f"Transcript:\n{TRANSCRIPT}\n\nQuestion: {QUESTION}"}]
    plain = model.chat(messages, max_tokens=48)
    shaped = model.chat(messages, max_tokens=64, response_format={
        "type": "json_schema", "json_schema": {"name": "answer", "schema": SCHEMA}},
        logprobs=0)
    parsed = json.loads(shaped.text)
    relevant = yes_probability(model, f"Question: {QUESTION}\nPassage: Let the soup simmer "
                                      "for twenty-five minutes with the lid on.\nDoes the "
                                      "passage answer the question?")
    unrelated = yes_probability(model, f"Question: {QUESTION}\nPassage: The train to Leeds "
                                       "leaves from platform four.\nDoes the passage answer "
                                       "the question?")
    timings = plain.raw["timings"]
    return {
        "model": name, "load_seconds": round(load, 2), "context": model.context,
        "prompt_tokens": plain.prompt_tokens,
        "prompt_tokens_per_second": round(timings["prompt_per_second"], 1),
        "generated_tokens_per_second": round(timings["predicted_per_second"], 1),
        "plain_seconds": round(plain.seconds, 2), "plain_answer": plain.text,
        "json_answer": parsed, "json_seconds": round(shaped.seconds, 2),
        "answer_probability": round(2.718281828 ** (shaped.span_logprob(parsed["answer"])
                                                    or 0.0), 3),
        "yes_relevant": round(relevant, 3), "yes_unrelated": round(unrelated, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", default=["llm-small", "llm"])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child)))
        return
    rows = []
    for name in args.models:
        before = os.getloadavg()[0]
        done = subprocess.run([sys.executable, __file__, "--child", name], check=True,
                              capture_output=True, text=True)
        row = json.loads(done.stdout.strip().splitlines()[-1])
        row["load_average"] = round(before, 1)
        rows.append(row)
        if not args.json:
            print(json.dumps(row, indent=1))
    if args.json:
        print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
