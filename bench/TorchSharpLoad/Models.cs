using TorchSharp;
using static TorchSharp.torch;

namespace TorchSharpLoad;

/// <summary>The benchmark's modules, named as the inputs of bench/make_torchsharp_inputs.py.</summary>
internal static class Models
{
    /// <summary>Model names accepted on the command line.</summary>
    public static readonly string[] Names =
        ["gpt2-small-tied", "gpt2-small-untied", "gpt2-medium-tied", "gpt2-medium-untied", "resnet18", "resnet50"];

    public static nn.Module Create(string model) => model switch
    {
        "resnet18" => torchvision.models.resnet18(),
        "resnet50" => torchvision.models.resnet50(),
        "gpt2-small-tied" => Gpt2(12, 768, tied: true),
        "gpt2-small-untied" => Gpt2(12, 768, tied: false),
        "gpt2-medium-tied" => Gpt2(24, 1024, tied: true),
        "gpt2-medium-untied" => Gpt2(24, 1024, tied: false),
        _ => throw new ArgumentException($"unknown model '{model}'; one of: {string.Join(", ", Names)}"),
    };

    /// <summary>
    /// GPT2LMHeadModel's state dict as Hugging Face names it (Conv1D weights are [in, out]), as a tree of modules
    /// holding Parameters, and the causal-mask buffer attn.bias that transformers before 4.31 saved. Tied, as HF ties
    /// it: lm_head.weight is the same Parameter as transformer.wte.weight, so the module holds it once.
    /// </summary>
    private static nn.Module Gpt2(int layers, int d, bool tied, int vocab = 50257, int ctx = 1024)
    {
        var slots = new List<Slot>
        {
            new("transformer.wte.weight", [vocab, d], ScalarType.Float32, false),
            new("transformer.wpe.weight", [ctx, d], ScalarType.Float32, false),
        };
        for (int i = 0; i < layers; i++)
        {
            string p = $"transformer.h.{i}.";
            slots.Add(new(p + "ln_1.weight", [d], ScalarType.Float32, false));
            slots.Add(new(p + "ln_1.bias", [d], ScalarType.Float32, false));
            slots.Add(new(p + "attn.bias", [1, 1, ctx, ctx], ScalarType.Bool, true));
            slots.Add(new(p + "attn.c_attn.weight", [d, 3 * d], ScalarType.Float32, false));
            slots.Add(new(p + "attn.c_attn.bias", [3 * d], ScalarType.Float32, false));
            slots.Add(new(p + "attn.c_proj.weight", [d, d], ScalarType.Float32, false));
            slots.Add(new(p + "attn.c_proj.bias", [d], ScalarType.Float32, false));
            slots.Add(new(p + "ln_2.weight", [d], ScalarType.Float32, false));
            slots.Add(new(p + "ln_2.bias", [d], ScalarType.Float32, false));
            slots.Add(new(p + "mlp.c_fc.weight", [d, 4 * d], ScalarType.Float32, false));
            slots.Add(new(p + "mlp.c_fc.bias", [4 * d], ScalarType.Float32, false));
            slots.Add(new(p + "mlp.c_proj.weight", [4 * d, d], ScalarType.Float32, false));
            slots.Add(new(p + "mlp.c_proj.bias", [d], ScalarType.Float32, false));
        }
        slots.Add(new("transformer.ln_f.weight", [d], ScalarType.Float32, false));
        slots.Add(new("transformer.ln_f.bias", [d], ScalarType.Float32, false));
        slots.Add(tied
            ? new("lm_head.weight", [vocab, d], ScalarType.Float32, false, TiedTo: "transformer.wte.weight")
            : new("lm_head.weight", [vocab, d], ScalarType.Float32, false));
        return TreeModule.Build("GPT2LMHeadModel", slots);
    }
}
