"""The Hugging Face transformers chat backend (``hf:/path``).

No vision-language weights can be had here, so the tests build a tiny randomly initialised
LLaVA (a 2-layer CLIP vision tower, a 2-layer Llama, a byte-level tokenizer made with the
``tokenizers`` library, a chat template written here), save it with ``save_pretrained`` and
go through the real loading and generation path: ``resolve("chat", "hf:" + folder)``.
The replies are noise, so the tests check what the backend controls: the reply's form, the
token counts, that pictures reach the model, greedy determinism, tools and the errors.
"""

from __future__ import annotations

import json
import os
import shutil
import threading

import numpy as np
import pytest

from vidseek.errors import ModelError
from vidseek.models import resolve
from vidseek.models.messages import ChatMessage, image_part, text_part
from vidseek.models.protocols import ChatModel, ChatModelError

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

pytestmark = pytest.mark.torch

from vidseek.models.hf_chat import TransformersChat  # noqa: E402  (after the skips)

SPECIALS = ["<pad>", "<eos>", "<image>", "<|im_start|>", "<|im_end|>"]
IMAGE_SIDE, PATCH = 32, 8
IMAGE_TOKENS = (IMAGE_SIDE // PATCH) ** 2  # one token per patch (the CLS token is dropped)

# A ChatML-style template; parts are iterated as the templates of real VLMs do.
PLAIN_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for part in message['content'] %}{% if part['type'] == 'image' %}<image>"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}{% endfor %}{% endif %}"
    "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
# The same with tools, rendered the way Qwen's templates do.
TOOLS_TEMPLATE = (
    "{% if tools %}<|im_start|>system\n# Tools\n{% for tool in tools %}"
    "{{ tool | tojson }}\n{% endfor %}<|im_end|>\n{% endif %}"
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% for part in message['content'] %}{% if part['type'] == 'image' %}<image>"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}{% endfor %}"
    "{% for call in message.get('tool_calls', []) %}<tool_call>"
    "{{ {'name': call['function']['name'], 'arguments': call['function']['arguments']} "
    "| tojson }}</tool_call>{% endfor %}"
    "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")

TOOL = {"type": "function", "function": {
    "name": "inspect", "description": "look at frames between two times",
    "parameters": {"type": "object", "properties": {"start": {"type": "number"},
                                                    "end": {"type": "number"}}}}}


def _byte_tokenizer(specials, **special_tokens):
    """A byte-level BPE tokenizer (no merges: one token per byte) with ``specials`` after
    the 256 byte tokens, and its vocabulary."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    vocab = {char: i for i, char in enumerate(bytes_to_unicode().values())}
    for token in specials:
        vocab[token] = len(vocab)
    backend = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    backend.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in specials])
    return transformers.PreTrainedTokenizerFast(tokenizer_object=backend, **special_tokens), vocab


def _tokenizer():
    """The byte-level tokenizer with ChatML specials."""
    return _byte_tokenizer(SPECIALS, pad_token="<pad>", eos_token="<eos>",
                           extra_special_tokens={"image_token": "<image>"})


@pytest.fixture(scope="module")
def tiny_vlm(tmp_path_factory) -> str:
    """A tiny random LLaVA saved with save_pretrained (~0.3 MB)."""
    tokenizer, vocab = _tokenizer()
    vision = transformers.CLIPVisionConfig(
        hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
        image_size=IMAGE_SIDE, patch_size=PATCH, projection_dim=32)
    text = transformers.LlamaConfig(
        vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=1024,
        pad_token_id=vocab["<pad>"], eos_token_id=vocab["<eos>"], bos_token_id=None)
    config = transformers.LlavaConfig(
        vision_config=vision, text_config=text, image_token_index=vocab["<image>"],
        vision_feature_layer=-1, vision_feature_select_strategy="default")
    torch.manual_seed(0)
    model = transformers.LlavaForConditionalGeneration(config)
    images = transformers.CLIPImageProcessor(
        size={"shortest_edge": IMAGE_SIDE}, crop_size={"height": IMAGE_SIDE, "width": IMAGE_SIDE})
    processor = transformers.LlavaProcessor(
        image_processor=images, tokenizer=tokenizer, patch_size=PATCH,
        num_additional_image_tokens=1, vision_feature_select_strategy="default",
        chat_template=PLAIN_TEMPLATE)
    folder = tmp_path_factory.mktemp("models") / "tiny-llava"
    processor.save_pretrained(folder)
    model.save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="module")
def tools_vlm(tiny_vlm, tmp_path_factory) -> str:
    """The same model with a chat template that renders tools."""
    folder = tmp_path_factory.mktemp("models") / "tiny-llava-tools"
    shutil.copytree(tiny_vlm, folder)
    template = folder / "chat_template.jinja"
    assert template.is_file(), sorted(os.listdir(folder))
    template.write_text(TOOLS_TEMPLATE)
    return str(folder)


@pytest.fixture(scope="module")
def model(tiny_vlm):
    with resolve("chat", "hf:" + tiny_vlm, max_new_tokens=8) as chat:
        yield chat


def _picture(seed: int, shape=(40, 60)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (*shape, 3), dtype=np.uint8)


def test_spec_resolves_to_a_lazy_transformers_chat_model(tiny_vlm):
    chat = resolve("chat", f"hf:{tiny_vlm}#device=cpu,dtype=float32,max_new_tokens=4")
    assert isinstance(chat, TransformersChat) and isinstance(chat, ChatModel)
    assert chat.name == "hf:tiny-llava"
    assert (chat.device, chat.dtype, chat.max_new_tokens) == ("cpu", "float32", 4)
    assert chat._model is None and chat.load_seconds is None  # nothing loaded yet


def test_chat_with_an_image_replies_with_counts_and_times(model):
    messages = [ChatMessage.system("You describe frames."),
                ChatMessage.user(text_part("Frame at 1.00 s"), image_part(_picture(1)),
                                 "What is shown?")]
    reply = model.chat(messages, max_tokens=6)
    assert isinstance(reply.text, str) and reply.tool_calls == []
    assert reply.finish_reason in ("stop", "length")
    assert 1 <= reply.completion_tokens <= 6
    if reply.finish_reason == "length":
        assert reply.completion_tokens == 6
    assert reply.prompt_tokens > IMAGE_TOKENS
    assert reply.total_tokens == reply.prompt_tokens + reply.completion_tokens
    assert 0 < reply.seconds < 30 and reply.model == "hf:tiny-llava"
    assert model.load_seconds is not None and model.load_seconds > 0
    assert reply.raw["images"] == 1 and "Frame at 1.00 s<image>What is shown?" in reply.raw[
        "prompt"]


def test_every_image_reaches_the_model(model):
    """Each picture adds its image tokens to the prompt, and changes what the model sees."""
    question = "What changed?"
    none = model.chat([ChatMessage.user(question)], max_tokens=1)
    one = model.chat([ChatMessage.user(_picture(1), question)], max_tokens=1)
    two = model.chat([ChatMessage.user(_picture(1), _picture(2), question)], max_tokens=1)
    assert one.prompt_tokens - none.prompt_tokens == IMAGE_TOKENS
    assert two.prompt_tokens - one.prompt_tokens == IMAGE_TOKENS
    assert (one.raw["images"], two.raw["images"]) == (1, 2)

    # the pixels themselves reach the model: different pictures, different next-token scores
    first = _next_token_scores(model, _picture(1))
    other = _next_token_scores(model, _picture(7))
    assert not np.allclose(first, other)
    assert np.allclose(first, _next_token_scores(model, _picture(1)))


def _next_token_scores(model, picture) -> np.ndarray:
    """The model's scores for the first reply token, through the backend's own input path."""
    from vidseek.models.hf_chat import _template_messages

    messages, images = _template_messages(
        [ChatMessage.user(picture, "Describe.").to_dict()], native_tools=False)
    prompt = model._render(messages, None)
    inputs = model._processor(text=[prompt], images=[images], return_tensors="pt",
                              add_special_tokens=False)
    with torch.inference_mode():
        return model._model(**inputs).logits[0, -1].numpy()


def test_greedy_decoding_is_repeatable(model):
    messages = [ChatMessage.user(_picture(3), "Say something.")]
    first = model.chat(messages, max_tokens=12, temperature=0.0)
    again = model.chat(messages, max_tokens=12, temperature=0.0)
    assert first.text == again.text
    assert first.completion_tokens == again.completion_tokens
    sampled = {model.chat(messages, max_tokens=12, temperature=5.0).text for _ in range(3)}
    assert len(sampled) > 1, "sampling at a high temperature should vary"


def test_messages_as_api_dicts_and_images_as_files(model, tmp_path):
    from PIL import Image

    path = tmp_path / "frame.png"
    Image.fromarray(_picture(4)).save(path)
    messages = [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": path.as_uri()}},
        {"type": "image_url", "image_url": {"url": str(path)}},
        {"type": "text", "text": "Two frames."}]}]
    reply = model.chat(messages, max_tokens=2)
    assert reply.raw["images"] == 2

    with pytest.raises(ChatModelError, match="data: URL"):
        model.chat([{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "https://example.invalid/a.jpg"}}]}])
    with pytest.raises(ChatModelError, match="cannot read the picture"):
        model.chat([{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,bm90IGFuIGltYWdl"}}
        ]}])


def test_tools_without_template_support_become_a_json_instruction(model):
    """Tool definitions go into the system text, and a past tool call and its result are
    written as text the template can render."""
    call = {"id": "c1", "type": "function",
            "function": {"name": "inspect", "arguments": json.dumps({"start": 1, "end": 2})}}
    messages = [ChatMessage.system("You answer questions about a video."),
                ChatMessage.user("When does the cat appear?"),
                ChatMessage.assistant(None, [call]),
                ChatMessage.tool("c1", "frames at 1.0 s and 2.0 s show a cat")]
    reply = model.chat(messages, max_tokens=2, tools=[TOOL],
                       response_format={"type": "json_object"})
    prompt = reply.raw["prompt"]
    assert prompt.count("<|im_start|>system") == 1
    assert '{"tool": NAME, "arguments": {...}}' in prompt and '"name": "inspect"' in prompt
    assert "Reply with only one JSON object" in prompt
    assert '{"tool": "inspect", "arguments": {"start": 1, "end": 2}}' in prompt
    assert ("<|im_start|>user\nResult of the tool call inspect:frames at 1.0 s and 2.0 s show "
            "a cat") in prompt
    assert reply.tool_calls == []


def test_templates_with_tools_get_them_natively(tools_vlm):
    with TransformersChat(tools_vlm, max_new_tokens=2) as chat:
        assert chat.supports_tools
        call = {"id": "c1", "type": "function",
                "function": {"name": "inspect", "arguments": '{"start": 3}'}}
        plain = chat.chat([ChatMessage.user("Look.")])
        with_tools = chat.chat([ChatMessage.user("Look."), ChatMessage.assistant(None, [call]),
                                ChatMessage.tool("c1", "a dog")], tools=[TOOL])
    prompt = with_tools.raw["prompt"]
    assert "# Tools" in prompt and '"name": "inspect"' in prompt
    assert '<tool_call>{"arguments": {"start": 3}, "name": "inspect"}</tool_call>' in prompt \
        or '<tool_call>{"name": "inspect", "arguments": {"start": 3}}</tool_call>' in prompt
    assert "<|im_start|>tool\na dog" in prompt
    assert "JSON object" not in prompt  # no instruction when the template takes tools
    assert with_tools.prompt_tokens > plain.prompt_tokens


def test_tool_call_blocks_in_the_output_become_tool_calls():
    from vidseek.models.hf_chat import _parse_tool_calls

    calls, text = _parse_tool_calls(
        'Let me look. <tool_call>{"name": "inspect", "arguments": {"start": 1.5}}</tool_call>')
    assert text == "Let me look."
    assert calls == [{"id": "call_0", "type": "function",
                      "function": {"name": "inspect", "arguments": '{"start": 1.5}'}}]
    assert _parse_tool_calls("<tool_call>not json</tool_call>") == (
        [], "<tool_call>not json</tool_call>")


def test_one_instance_is_safe_to_share_between_threads(model):
    messages = [ChatMessage.user(_picture(5), "Go.")]
    expected = model.chat(messages, max_tokens=4).text
    results: list[str] = []

    def ask() -> None:
        results.append(model.chat(messages, max_tokens=4).text)

    threads = [threading.Thread(target=ask) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [expected] * 3


def test_close_frees_the_model_and_a_later_chat_loads_it_again(tiny_vlm):
    chat = TransformersChat(tiny_vlm, max_new_tokens=2)
    first = chat.chat([ChatMessage.user("Hi.")])
    chat.close()
    assert chat._model is None
    assert chat.chat([ChatMessage.user("Hi.")]).text == first.text


def test_bad_paths_and_specs_say_what_to_do(tmp_path, tiny_vlm):
    with pytest.raises(ChatModelError, match="does not exist.*SmolVLM"):
        resolve("chat", f"hf:{tmp_path / 'missing'}")
    with pytest.raises(ModelError, match="names no model"):
        resolve("chat", "hf:")
    with pytest.raises(ChatModelError, match="unknown option 'colour=red'"):
        resolve("chat", f"hf:{tiny_vlm}#colour=red")
    with pytest.raises(ChatModelError, match="threads must be a whole number"):
        resolve("chat", f"hf:{tiny_vlm}#threads=two")
    with pytest.raises(ChatModelError, match="unknown dtype"):
        resolve("chat", f"hf:{tiny_vlm}#dtype=float8")
    (tmp_path / "file.bin").write_bytes(b"x")
    with pytest.raises(ChatModelError, match="is a file, not a folder"):
        resolve("chat", f"hf:{tmp_path / 'file.bin'}")

    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ChatModelError, match="no config.json"):
        resolve("chat", f"hf:{empty}").chat([ChatMessage.user("Hi.")])


def test_a_text_only_model_is_not_a_vision_language_model(tmp_path):
    tokenizer, vocab = _tokenizer()
    config = transformers.BertConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1,
                                     num_attention_heads=2, intermediate_size=32)
    folder = tmp_path / "bert"
    transformers.BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    with pytest.raises(ChatModelError, match="not an image-text-to-text"):
        TransformersChat(folder).load()


def test_a_hub_name_missing_from_the_cache_is_not_downloaded(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("VIDSEEK_ALLOW_DOWNLOADS", raising=False)
    chat = resolve("chat", "hf:HuggingFaceTB/SmolVLM-256M-Instruct")
    assert chat.is_hub_name and chat.name == "hf:HuggingFaceTB/SmolVLM-256M-Instruct"
    with pytest.raises(ChatModelError, match="Hugging Face cache"):
        chat.load()


IDEFICS3_TEMPLATE = (  # SmolVLM's template: it indexes content[0], so content must be a list
    "<|im_start|>{% for message in messages %}{{ message['role'] | capitalize }}"
    "{% if message['content'][0]['type'] == 'image' %}{{ ':' }}{% else %}{{ ': ' }}{% endif %}"
    "{% for line in message['content'] %}{% if line['type'] == 'text' %}{{ line['text'] }}"
    "{% elif line['type'] == 'image' %}{{ '<image>' }}{% endif %}{% endfor %}"
    "<end_of_utterance>\n{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}")


def test_an_idefics3_model_splits_pictures_into_tiles(tmp_path):
    """SmolVLM (v1) is Idefics3: pictures go to the processor per sample and are split into
    tiles plus a global view, each with its own image tokens."""
    specials = (["<|endoftext|>", "<|im_start|>", "<end_of_utterance>",
                 "<fake_token_around_image>", "<image>", "<global-img>"]
                + [f"<row_{r}_col_{c}>" for r in range(1, 7) for c in range(1, 7)])
    tokenizer, vocab = _byte_tokenizer(
        specials, pad_token="<|endoftext|>", eos_token="<end_of_utterance>",
        extra_special_tokens={"fake_image_token": "<fake_token_around_image>",
                              "image_token": "<image>", "global_image_token": "<global-img>",
                              "end_of_utterance_token": "<end_of_utterance>"})
    config = transformers.Idefics3Config(
        text_config={"model_type": "llama", "vocab_size": len(vocab), "hidden_size": 32,
                     "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
                     "num_key_value_heads": 2, "max_position_embeddings": 2048,
                     "pad_token_id": vocab["<|endoftext|>"],
                     "eos_token_id": vocab["<end_of_utterance>"]},
        vision_config={"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
                       "num_attention_heads": 2, "image_size": 32, "patch_size": 8},
        image_token_id=vocab["<image>"], scale_factor=2)
    torch.manual_seed(0)
    model = transformers.Idefics3ForConditionalGeneration(config)
    images = transformers.Idefics3ImageProcessor(
        size={"longest_edge": 64}, max_image_size={"longest_edge": 32}, do_image_splitting=True)
    processor = transformers.Idefics3Processor(image_processor=images, tokenizer=tokenizer,
                                               image_seq_len=4, chat_template=IDEFICS3_TEMPLATE)
    folder = tmp_path / "tiny-idefics3"
    processor.save_pretrained(folder)
    model.save_pretrained(folder)

    with resolve("chat", f"hf:{folder}#max_new_tokens=3") as chat:
        system = ChatMessage.system("You describe frames.")
        none = chat.chat([system, ChatMessage.user("Describe.")])
        one = chat.chat([system, ChatMessage.user(_picture(1, (60, 80)), "Describe.")])
        two = chat.chat([system, ChatMessage.user(_picture(1, (60, 80)), _picture(2, (60, 80)),
                                                  "Describe.")])
    per_picture = two.prompt_tokens - one.prompt_tokens
    # a 60x80 picture at 64 px: 2x2 tiles of 32 px plus the global view, 4 tokens each
    assert per_picture > 5 * 4
    # the template writes "User:" before a picture and "User: " before text: one token less
    assert one.prompt_tokens - none.prompt_tokens == per_picture - 1
    assert "System: You describe frames." in two.raw["prompt"]
    assert 1 <= two.completion_tokens <= 3
