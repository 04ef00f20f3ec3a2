"""Tiny random vision-language models, built offline, saved like Hub checkpoints.

``build_tiny_model(kind, folder)`` writes a complete model folder (config, weights,
tokenizer, processor, chat template) for ``kind`` in ``{"llava", "idefics3",
"paligemma"}``, so that ``AutoProcessor.from_pretrained(folder)`` and
``AutoModelForImageTextToText.from_pretrained(folder)`` load it exactly as they would a
model from the Hub. Nothing is downloaded: the tokenizer is a BPE model trained with
``tokenizers`` on a few sentences, the weights are random from a fixed torch seed.

The tokenizers differ on purpose: LLaVA and Idefics3 use byte-level BPE (a letter after a
space is ``ĠA``), PaliGemma uses a SentencePiece-like Metaspace pre-tokenizer (``▁A``).
Every vocabulary holds the option letters A-K both bare and with a leading space.
No torchvision is needed: the image processors fall back to their PIL versions.
"""

from __future__ import annotations

from pathlib import Path

KINDS = ("llava", "idefics3", "paligemma")

IMAGE_SIZE = 28
_LETTERS = "ABCDEFGHIJK"

_SENTENCES = [
    "What is the most likely diagnosis shown in this chest X-ray?",
    "Which imaging modality was used to acquire this image?",
    "The CT scan shows a hypodense lesion in the liver.",
    "An MRI of the brain with a lesion in the left temporal lobe.",
    "The fundus photograph shows diabetic retinopathy.",
    "The ultrasound image shows a cyst in the kidney.",
    "Answer with the option letter from the given choices directly.",
    "A. pneumonia\nB. normal\nC. effusion\nD. fracture\nE. nodule",
    "The answer is A. The answer is B. The answer is C. The answer is D.",
    "Option E is correct. Option F, option G, option H, option I, option J, option K.",
    "USER: ASSISTANT: User: Assistant:",
]
# Many letters after a space and at the start of a line, so that BPE learns both spellings.
_LETTER_LINES = [" ".join(_LETTERS)] * 20 + ["\n".join(_LETTERS)] * 20 + list(_LETTERS) * 20

# A simple template for LLaVA and Idefics3: optional system line, the image token(s) then
# the text in the user turn, and "ASSISTANT:" as the generation prompt.
_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['content'] is string %}{% set text = message['content'] %}"
    "{% else %}{% set text = message['content'] | selectattr('type', 'equalto', 'text') "
    "| map(attribute='text') | join('\\n') %}{% endif %}"
    "{% if message['role'] == 'system' %}{{ text }}\n"
    "{% elif message['role'] == 'user' %}USER: "
    "{% if message['content'] is not string %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}{{ IMAGE }}{% endif %}{% endfor %}{% endif %}"
    "{{ text }}\n"
    "{% else %}ASSISTANT: {{ text }}{{ eos_token }}\n{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}ASSISTANT:{% endif %}"
)

# PaliGemma is not a chat model: its processor puts BOS after the image tokens and "\n"
# after the text. The template renders the image tokens then the user text (system text
# first, if any).
_PALIGEMMA_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['content'] is not string %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}<image>{% endif %}{% endfor %}{% endif %}{% endfor %}"
    "{% for message in messages %}"
    "{% if message['content'] is string %}{% set text = message['content'] %}"
    "{% else %}{% set text = message['content'] | selectattr('type', 'equalto', 'text') "
    "| map(attribute='text') | join('\\n') %}{% endif %}"
    "{% if message['role'] != 'assistant' %}{{ text }}{% if not loop.last %}\n{% endif %}"
    "{% endif %}{% endfor %}"
)


def _train_tokenizer(special_tokens: list[str], metaspace: bool, merges: int = 96):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    if metaspace:
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first")
        tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="first")
        initial = []
    else:
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        initial = pre_tokenizers.ByteLevel.alphabet()
    trainer = trainers.BpeTrainer(
        vocab_size=len(initial) + len(special_tokens) + merges,
        special_tokens=special_tokens,
        initial_alphabet=initial,
        show_progress=False,
    )
    tok.train_from_iterator(_SENTENCES * 3 + _LETTER_LINES, trainer=trainer)
    marker = "▁" if metaspace else "Ġ"
    vocab = tok.get_vocab()
    missing = [t for c in _LETTERS for t in (c, marker + c) if t not in vocab]
    if missing:  # pragma: no cover - guards the corpus above
        raise RuntimeError(f"tiny tokenizer lacks letter tokens {missing}")
    return tok


def _fast_tokenizer(tok, chat_template: str, **special):
    from transformers import PreTrainedTokenizerFast

    fast = PreTrainedTokenizerFast(tokenizer_object=tok, **special)
    fast.chat_template = chat_template
    return fast


def _llava(folder: Path) -> None:
    import torch
    from transformers import (
        CLIPImageProcessor,
        CLIPVisionConfig,
        LlamaConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
    )

    specials = ["<unk>", "<s>", "</s>", "<pad>", "<image>"]
    tok = _train_tokenizer(specials, metaspace=False)
    template = _CHAT_TEMPLATE.replace("{{ IMAGE }}", "<image>\n")
    tokenizer = _fast_tokenizer(
        tok, template, unk_token="<unk>", bos_token="<s>", eos_token="</s>", pad_token="<pad>"
    )
    vocab_size = len(tokenizer)
    patch = 14
    image_processor = CLIPImageProcessor(
        size={"shortest_edge": IMAGE_SIZE},
        crop_size={"height": IMAGE_SIZE, "width": IMAGE_SIZE},
    )
    processor = LlavaProcessor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        patch_size=patch,
        vision_feature_select_strategy="default",
        num_additional_image_tokens=1,
        chat_template=template,
    )
    config = LlavaConfig(
        vision_config=CLIPVisionConfig(
            hidden_size=16,
            intermediate_size=32,
            num_hidden_layers=1,
            num_attention_heads=2,
            image_size=IMAGE_SIZE,
            patch_size=patch,
            projection_dim=16,
        ),
        text_config=LlamaConfig(
            vocab_size=vocab_size,
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=512,
            initializer_range=0.2,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        ),
        image_token_index=tokenizer.convert_tokens_to_ids("<image>"),
        image_seq_length=(IMAGE_SIZE // patch) ** 2,
        vision_feature_layer=-1,
        vision_feature_select_strategy="default",
    )
    torch.manual_seed(0)
    model = LlavaForConditionalGeneration(config).eval()
    _save(model, processor, tokenizer, folder)


def _idefics3(folder: Path) -> None:
    import torch
    from transformers import (
        Idefics3Config,
        Idefics3ForConditionalGeneration,
        Idefics3ImageProcessor,
        Idefics3Processor,
        Idefics3VisionConfig,
        LlamaConfig,
    )

    specials = [
        "<unk>",
        "<|im_start|>",
        "<|im_end|>",
        "<pad>",
        "<image>",
        "<fake_token_around_image>",
        "<global-img>",
        "<end_of_utterance>",
    ] + [f"<row_{i}_col_{j}>" for i in range(1, 7) for j in range(1, 7)]
    tok = _train_tokenizer(specials, metaspace=False)
    template = _CHAT_TEMPLATE.replace("{{ IMAGE }}", "<image>")
    tokenizer = _fast_tokenizer(
        tok,
        template,
        unk_token="<unk>",
        bos_token="<|im_start|>",
        eos_token="<end_of_utterance>",
        pad_token="<pad>",
    )
    size, patch, scale = 32, 8, 2
    image_seq_len = (size // patch) ** 2 // scale**2
    image_processor = Idefics3ImageProcessor(
        do_image_splitting=False,
        size={"longest_edge": size},
        max_image_size={"longest_edge": size},
    )
    processor = Idefics3Processor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        image_seq_len=image_seq_len,
        chat_template=template,
    )
    config = Idefics3Config(
        vision_config=Idefics3VisionConfig(
            hidden_size=16,
            intermediate_size=32,
            num_hidden_layers=1,
            num_attention_heads=2,
            image_size=size,
            patch_size=patch,
        ),
        text_config=LlamaConfig(
            vocab_size=len(tokenizer),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=512,
            initializer_range=0.2,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        ),
        image_token_id=tokenizer.convert_tokens_to_ids("<image>"),
        scale_factor=scale,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    model = Idefics3ForConditionalGeneration(config).eval()
    _save(model, processor, tokenizer, folder)


def _paligemma(folder: Path) -> None:
    import torch
    from transformers import (
        GemmaConfig,
        PaliGemmaConfig,
        PaliGemmaForConditionalGeneration,
        PaliGemmaProcessor,
        SiglipImageProcessor,
        SiglipVisionConfig,
    )

    specials = ["<unk>", "<bos>", "<eos>", "<pad>", "<image>"]
    tok = _train_tokenizer(specials, metaspace=True)
    tokenizer = _fast_tokenizer(
        tok,
        _PALIGEMMA_TEMPLATE,
        unk_token="<unk>",
        bos_token="<bos>",
        eos_token="<eos>",
        pad_token="<pad>",
    )
    patch = 14
    image_seq_length = (IMAGE_SIZE // patch) ** 2
    image_processor = SiglipImageProcessor(size={"height": IMAGE_SIZE, "width": IMAGE_SIZE})
    image_processor.image_seq_length = image_seq_length
    # The processor adds the 1,152 <locXXXX>/<segXXX> tokens to the tokenizer.
    processor = PaliGemmaProcessor(
        image_processor=image_processor, tokenizer=tokenizer, chat_template=_PALIGEMMA_TEMPLATE
    )
    config = PaliGemmaConfig(
        vision_config=SiglipVisionConfig(
            hidden_size=16,
            intermediate_size=32,
            num_hidden_layers=1,
            num_attention_heads=2,
            image_size=IMAGE_SIZE,
            patch_size=patch,
            projection_dim=32,
        ),
        text_config=GemmaConfig(
            vocab_size=len(tokenizer),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            head_dim=8,
            max_position_embeddings=512,
            initializer_range=0.2,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        ),
        image_token_index=tokenizer.convert_tokens_to_ids("<image>"),
        vocab_size=len(tokenizer),
        projection_dim=32,
        hidden_size=32,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    model = PaliGemmaForConditionalGeneration(config).eval()
    _save(model, processor, tokenizer, folder)


def _save(model, processor, tokenizer, folder: Path) -> None:
    gen = model.generation_config
    gen.bos_token_id = tokenizer.bos_token_id
    gen.eos_token_id = tokenizer.eos_token_id
    gen.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(folder)
    processor.save_pretrained(folder)


_BUILDERS = {"llava": _llava, "idefics3": _idefics3, "paligemma": _paligemma}


def build_tiny_model(kind: str, folder: Path) -> Path:
    """Build the tiny ``kind`` model into ``folder`` (created) and return the folder."""
    if kind not in _BUILDERS:
        raise ValueError(f"unknown tiny model kind {kind!r}; choose from {', '.join(KINDS)}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _BUILDERS[kind](folder)
    return folder
