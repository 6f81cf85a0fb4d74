"""``inrzoo chat``: the LLM bridge fitted with the video, its tokens spliced into a tiny random language model.

Nothing is downloaded: the language model is a 2-layer LLaMA built from a config here, its tokenizer a word-level
one built here, both saved to a folder as ``save_pretrained`` writes them. What they answer means nothing; what is
pinned is the plumbing: the bridge learns the exported tokens, the tokens reach the model at the placeholder, the
run folder and its ``.inrz`` give the model the same video, and bad inputs are one line.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
import yaml
from helpers import write_two_clip_corpus
from test_cli import error_line, logged_scalar, run

from inrzoo.chat import VideoChat, load_language_model, splice
from inrzoo.compression import Bitstream, decode_model
from inrzoo.errors import InrzooError
from inrzoo.models.loading import load_video_inr
from inrzoo.runs import FittedRun, compress_run
from inrzoo.tasks import LLMBridge, create_task

transformers = pytest.importorskip("transformers", reason="the chat tests need `pip install 'inrzoo[chat]'`")

#: The tiny language model's embedding width and the bridge's token count.
WIDTH, TOKENS = 16, 4
WORDS = "what happens in this video a red disc moves right white square left the is and on".split()


def save_tiny_language_model(folder: Path, width: int = WIDTH) -> Path:
    """A random 2-layer LLaMA and a word-level tokenizer, saved as ``save_pretrained`` writes them."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors

    specials = ["<unk>", "<s>", "</s>", "<pad>"]
    vocab = {word: i for i, word in enumerate(specials + WORDS)}
    core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    core.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 1)])  # as LLaMA's
    tokenizer = transformers.PreTrainedTokenizerFast(
        tokenizer_object=core, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>"
    )
    torch.manual_seed(0)
    config = transformers.LlamaConfig(
        vocab_size=len(vocab), hidden_size=width, intermediate_size=2 * width, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=256,
        bos_token_id=1, eos_token_id=2, pad_token_id=3,
    )  # fmt: skip
    transformers.LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def fit_config(folder: Path, clip: Path, tokens: Path, epochs: int = 40) -> Path:
    """A tiny SIREN fit of ``clip`` with an LLM bridge trained against ``tokens``."""
    config = {
        "seed_everything": 0,
        "model": {"class_path": "inrzoo.models.VideoINR", "init_args": {
            "latent_dim": 8,
            "backbone": {"class_path": "SirenBackbone", "init_args": {"width": 16, "depth": 2}},
            "hypernet": {"class_path": "FiLMHyperHead", "init_args": {"hidden": 8}},
            "llm_bridge": {"class_path": "LLMBridge", "init_args": {
                "tokens": str(tokens), "num_tokens": TOKENS, "token_dim": WIDTH, "width": 32, "heads": 2,
            }},
        }},
        "data": {"class_path": "inrzoo.data.VideoDataModule",
                 "init_args": {"path": str(clip), "batch_size": 4, "max_frames": 8}},
        "trainer": {"accelerator": "cpu", "max_epochs": epochs, "enable_progress_bar": False,
                    "enable_model_summary": False, "default_root_dir": str(folder / "runs"),
                    "check_val_every_n_epoch": epochs, "callbacks": [{
                        "class_path": "lightning.pytorch.callbacks.ModelCheckpoint",
                        "init_args": {"save_last": True, "save_on_train_epoch_end": True}}]},
    }  # fmt: skip
    path = folder / f"{clip.stem}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def write_tokens(path: Path, seed: int, shape: tuple[int, ...] = (TOKENS, WIDTH)) -> Path:
    """Stand-in exported tokens: what a video-language model's visual side would give for one video."""
    from safetensors.torch import save_file

    generator = torch.Generator().manual_seed(seed)
    save_file({"video_tokens": 0.05 * torch.randn(*shape, generator=generator)}, str(path))
    return path


@pytest.fixture(scope="module")
def chat_setup(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """Two videos fitted with bridges against their own exported tokens, each compressed at the default settings,
    and the tiny model."""
    root = tmp_path_factory.mktemp("chat")
    clips = write_two_clip_corpus(root)
    runs = {}
    for seed, name in enumerate(("shapes", "negative")):
        tokens = write_tokens(root / f"{name}_tokens.safetensors", seed)
        folder = root / name
        folder.mkdir()
        assert run(["fit", "--config", str(fit_config(folder, clips / f"{name}.mp4", tokens))]) == 0
        runs[name] = (next((folder / "runs").glob("**/version_0")), tokens)
        compress_run(runs[name][0], root / f"{name}.inrz")
    llm = save_tiny_language_model(root / "tiny-llama")
    return SimpleNamespace(root=root, runs=runs, inrz=root / "shapes.inrz", llm=llm)


def tokens_of(tokens_file: Path) -> torch.Tensor:
    from safetensors.torch import load_file

    return load_file(str(tokens_file))["video_tokens"]


def first_token_distribution(path: Path | str, llm: Path, full_precision: bool = False) -> torch.Tensor:
    """The whole (vocab,) distribution of the first answer token, with the tokens `inrzoo chat` reads from ``path``."""
    model, tokenizer = load_language_model(str(llm))
    chat = VideoChat(model, tokenizer, FittedRun.open(path).video_tokens(full_precision))
    return chat.next_token_probabilities("what happens in this video")


# -- the bridge ----------------------------------------------------------------------------------------
def test_the_fitted_bridge_gives_the_exported_tokens(chat_setup: SimpleNamespace) -> None:
    for run_dir, tokens_file in chat_setup.runs.values():
        with torch.no_grad():
            tokens = FittedRun.open(run_dir).model.video_tokens()
        cosine = torch.nn.functional.cosine_similarity(tokens, tokens_of(tokens_file), dim=-1)
        assert cosine.min() > 0.9, cosine


def test_the_bridge_is_stored_but_not_counted_as_the_decoder(chat_setup: SimpleNamespace) -> None:
    model = load_video_inr(chat_setup.runs["shapes"][0])
    bridge = sum(p.numel() for p in model.llm_bridge.parameters())
    assert model.parameter_count() == sum(p.numel() for p in model.parameters()) - bridge
    stream = Bitstream.read(chat_setup.inrz)
    assert any(entry["name"].startswith("llm_bridge.") for entry in stream.header["tensors"])
    report = compress_run(chat_setup.runs["shapes"][0], chat_setup.root / "again.inrz")
    assert report["split"]["bridge"] > 0 and sum(report["split"].values()) == report["bytes"]


def test_a_model_without_the_bridge_is_unchanged(tmp_path: Path) -> None:
    """Same seed, with and without a bridge: the decoder's weights are the same numbers (the bridge is built last)."""
    from inrzoo.backbones import SirenBackbone
    from inrzoo.hypernets import FiLMHyperHead
    from inrzoo.models import VideoINR

    def model(bridge: LLMBridge | None) -> VideoINR:
        torch.manual_seed(0)
        return VideoINR(SirenBackbone(width=8, depth=2), FiLMHyperHead(hidden=4), latent_dim=4, num_frames=3,
                        frame_size=(8, 8), llm_bridge=bridge)  # fmt: skip

    plain = model(None)
    bridged = model(LLMBridge(str(tmp_path / "absent.safetensors"), num_tokens=2, token_dim=8, width=8, heads=2))
    assert "llm_bridge.scale" not in plain.state_dict()
    for name, tensor in plain.state_dict().items():
        assert torch.equal(tensor, bridged.state_dict()[name]), name


def test_the_bridge_is_a_registered_task() -> None:
    bridge = create_task("llm-bridge", tokens="t.safetensors", num_tokens=3, token_dim=8, width=8, heads=2)
    assert isinstance(bridge, LLMBridge)
    with torch.no_grad():
        assert bridge.build(5)(torch.randn(7, 5)).shape == (3, 8)  # any number of frames -> K tokens
        assert bridge(torch.randn(2, 4, 5)).shape == (2, 3, 8)


def test_the_null_cosine_shows_how_little_a_bridge_per_video_reads_its_latents(chat_setup: SimpleNamespace) -> None:
    """The tokens from noise latents against the video's: 1 for a bridge that cannot read its latents, lower for one
    that does; logged as val/bridge_null_cosine. The fitted bridges score close to 1 (README "Chat")."""
    torch.manual_seed(0)
    bridge = LLMBridge("t.safetensors", num_tokens=TOKENS, token_dim=8, width=8, heads=2).build(5)
    latents = 3 * torch.randn(6, 5)
    reading = float(bridge.null_cosine(latents))
    with torch.no_grad():
        for block in bridge.blocks:  # the queries never see the latents
            block.cross_attention.out_proj.weight.zero_()
            block.cross_attention.out_proj.bias.zero_()
    assert bridge.null_cosine(latents) == pytest.approx(1, abs=1e-5)
    assert reading < 0.999, reading
    for run_dir, _ in chat_setup.runs.values():
        value = float(FittedRun.open(run_dir).model.bridge_null_cosine())
        assert logged_scalar(run_dir, "val/bridge_null_cosine") == pytest.approx(value, abs=1e-4)
        assert value > 0.95, f"the bridge now reads its latents (null cosine {value:.3f}): update README 'Chat'"


def test_a_tokens_file_of_another_shape_is_one_error(tmp_path: Path) -> None:
    bridge = LLMBridge(str(write_tokens(tmp_path / "t.safetensors", 0, (5, 8))), num_tokens=4, token_dim=8, heads=2)
    with pytest.raises(InrzooError, match=r"holds 5 tokens x 8, the bridge is set to num_tokens=4 x token_dim=8"):
        bridge.build(3).prepare()
    batched = LLMBridge(str(write_tokens(tmp_path / "b.safetensors", 0, (1, 4, 8))), num_tokens=4, token_dim=8)
    batched.build(3).prepare()  # a model's own export keeps its batch of one
    assert batched.targets.shape == (4, 8)


# -- the prompt -------------------------------------------------------------------------------------------
def test_the_splice_puts_the_k_tokens_at_the_placeholder(chat_setup: SimpleNamespace) -> None:
    model, tokenizer = load_language_model(str(chat_setup.llm))
    embedding = model.get_input_embeddings()
    video = torch.randn(TOKENS, WIDTH)
    spliced = splice("what happens <video> in this video", video, tokenizer, embedding)
    before = [tokenizer.bos_token_id, *tokenizer("what happens", add_special_tokens=False)["input_ids"]]
    after = tokenizer(" in this video", add_special_tokens=False)["input_ids"]
    assert spliced.video_start == len(before) == 3
    assert spliced.embeddings.shape == (len(before) + TOKENS + len(after), WIDTH)
    assert spliced.token_ids == [*before, *[None] * TOKENS, *after]
    start = spliced.video_start
    assert torch.equal(spliced.embeddings[start : start + TOKENS], video)
    with torch.no_grad():
        assert torch.equal(spliced.embeddings[:start], embedding(torch.tensor(before)))
        assert torch.equal(spliced.embeddings[start + TOKENS :], embedding(torch.tensor(after)))


def test_the_run_folder_and_its_inrz_give_the_same_next_token_distribution(chat_setup: SimpleNamespace) -> None:
    """Bit for bit: a run folder is read at the values of the file `inrzoo compress` writes from it."""
    for name, (run_dir, _) in chat_setup.runs.items():
        from_run = first_token_distribution(run_dir, chat_setup.llm)
        from_file = first_token_distribution(chat_setup.root / f"{name}.inrz", chat_setup.llm)
        assert torch.equal(from_run, from_file), (name, (from_run - from_file).abs().sum())


def test_the_distribution_changes_with_the_video(chat_setup: SimpleNamespace) -> None:
    shapes = first_token_distribution(chat_setup.runs["shapes"][0], chat_setup.llm)
    for negative in (chat_setup.runs["negative"][0], chat_setup.root / "negative.inrz"):
        other = first_token_distribution(negative, chat_setup.llm)
        assert (shapes - other).abs().sum() > 1e-3, f"{negative}'s tokens left the model's answer unchanged"


def test_full_precision_reads_the_runs_trained_values(
    chat_setup: SimpleNamespace, capsys: pytest.CaptureFixture[str]
) -> None:
    """--full-precision: the trained latents and bridge (not the file's values), close to the file's answer."""
    run_dir = chat_setup.runs["shapes"][0]
    fitted = FittedRun.open(run_dir)
    with torch.no_grad():
        assert torch.equal(fitted.video_tokens(full_precision=True), fitted.model.video_tokens())
    assert not torch.equal(fitted.video_tokens(full_precision=True), fitted.video_tokens())
    full = first_token_distribution(run_dir, chat_setup.llm, full_precision=True)
    from_file = first_token_distribution(chat_setup.inrz, chat_setup.llm)
    assert not torch.equal(full, from_file)
    assert (full - from_file).abs().sum() < 0.05
    args = ["chat", str(chat_setup.inrz), "--llm", str(chat_setup.llm), "--prompt", "what happens", "--full-precision"]
    assert run(args) == 2
    assert "holds only its quantised values; give the run folder" in error_line(capsys)


def test_the_file_values_are_the_decoded_files(chat_setup: SimpleNamespace) -> None:
    """A run's file_model is what decoding its written file gives, tensor for tensor (the export's quantiser)."""
    fitted = FittedRun.open(chat_setup.runs["shapes"][0])
    trained = fitted.model.latents.weight.detach().clone()
    expected = fitted.file_model().state_dict()
    decoded = decode_model(Bitstream.read(chat_setup.inrz)).state_dict()
    assert set(decoded) <= set(expected)
    for name, tensor in decoded.items():
        assert torch.equal(tensor, expected[name]), name
    assert torch.equal(fitted.model.latents.weight, trained), "the run's own model must keep its trained values"
    assert not torch.equal(expected["latents.weight"], trained)


# -- the command --------------------------------------------------------------------------------------------
def test_chat_answers_from_the_run_and_from_its_file(
    chat_setup: SimpleNamespace, capsys: pytest.CaptureFixture[str]
) -> None:
    """The printed answer is the model's greedy continuation of the prompt with that source's video tokens."""
    model, tokenizer = load_language_model(str(chat_setup.llm))
    answers = []
    for source in (chat_setup.runs["shapes"][0], chat_setup.inrz):
        args = ["chat", str(source), "--llm", str(chat_setup.llm), "--prompt", "what happens", "--max-new-tokens", "5"]
        assert run(args) == 0, capsys.readouterr().err
        answer = capsys.readouterr().out.strip()
        chat = VideoChat(model, tokenizer, FittedRun.open(source).video_tokens())
        first_word = tokenizer.decode([int(chat.next_token_probabilities("what happens").argmax())])
        assert answer == chat.ask("what happens", 5) and answer.split()[0] == first_word, (answer, first_word)
        assert all(word in WORDS for word in answer.split()), answer
        answers.append(answer)
    assert answers[0] == answers[1], "the run folder and its file answered differently"


def test_interactive_chat_keeps_the_conversation(
    chat_setup: SimpleNamespace, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("what happens\nand the square\n\n"))
    args = ["chat", str(chat_setup.inrz), "--llm", str(chat_setup.llm), "--interactive", "--max-new-tokens", "3"]
    assert run(args) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert out.count("> ") == 3, out  # two questions answered, then the empty line ends it
    model, tokenizer = load_language_model(str(chat_setup.llm))
    chat = VideoChat(model, tokenizer, FittedRun.open(chat_setup.inrz).model.video_tokens())
    first = chat.ask("what happens", 3)
    second = chat.ask("and the square", 3)
    assert out.split("> ")[1:3] == [f"{first}\n", f"{second}\n"]
    assert chat.history is not None and chat.history.shape[0] > TOKENS + 6  # both turns and both answers


# -- one-line errors ----------------------------------------------------------------------------------------
def test_a_run_without_a_bridge_is_one_error(
    chat_setup: SimpleNamespace, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    stream = Bitstream.read(chat_setup.inrz)  # the same video, its bridge taken out
    stream.header["model"]["llm_bridge"] = None
    stream.header["tensors"] = [e for e in stream.header["tensors"] if not e["name"].startswith("llm_bridge.")]
    bare = tmp_path / "bare.inrz"
    stream.write(bare)
    assert run(["chat", str(bare), "--llm", str(chat_setup.llm), "--prompt", "what happens"]) == 2
    assert "has no LLM bridge" in error_line(capsys)


def test_a_language_model_of_another_width_is_one_error_naming_both(
    chat_setup: SimpleNamespace, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    wide = save_tiny_language_model(tmp_path / "wide", width=24)
    assert run(["chat", str(chat_setup.inrz), "--llm", str(wide), "--prompt", "what happens"]) == 2
    line = error_line(capsys)
    assert f"makes {WIDTH}-wide tokens" in line and "takes 24-wide embeddings" in line, line


def test_a_prompt_without_the_placeholder_is_one_error_when_the_template_has_none(
    chat_setup: SimpleNamespace, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["chat", str(chat_setup.inrz), "--llm", str(chat_setup.llm), "--template", "{prompt}"]
    assert run([*base, "--prompt", "what happens"]) == 2
    assert "the prompt has no <video>" in error_line(capsys)
    assert run([*base, "--prompt", "<video> what happens", "--max-new-tokens", "2"]) == 0


def test_without_transformers_chat_says_how_to_install_it(
    chat_setup: SimpleNamespace, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "transformers", None)  # what an environment without it imports
    assert run(["chat", str(chat_setup.inrz), "--llm", str(chat_setup.llm), "--prompt", "what happens"]) == 2
    assert "pip install 'inrzoo[chat]'" in error_line(capsys)


def test_a_hub_id_offline_is_one_error_asking_for_a_local_folder(
    chat_setup: SimpleNamespace, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert run(["chat", str(chat_setup.inrz), "--llm", "inrzoo-tests/no-such-model", "--prompt", "what happens"]) == 2
    assert "pass its local folder to --llm" in error_line(capsys)


@pytest.mark.parametrize("device", ["gpu0", "cuda:0"])
def test_a_device_that_cannot_be_used_is_one_error(
    chat_setup: SimpleNamespace, capsys: pytest.CaptureFixture[str], device: str
) -> None:
    if device.startswith("cuda") and torch.cuda.is_available():
        pytest.skip("this machine has a CUDA device")
    args = ["chat", str(chat_setup.inrz), "--llm", str(chat_setup.llm), "--prompt", "what happens", "--device", device]
    assert run(args) == 2
    assert "--device" in error_line(capsys)
