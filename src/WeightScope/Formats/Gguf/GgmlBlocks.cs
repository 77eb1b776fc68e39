namespace WeightScope.Formats.Gguf;

/// <summary>
/// Byte layouts of ggml's quantized blocks (<c>ggml-common.h</c>), field by field in struct order. Every block is
/// packed (the header static_asserts its size) and little-endian; <c>ggml_half</c> is IEEE binary16.
/// </summary>
internal static class GgmlBlocks
{
    /// <summary>Values per k-quant super-block.</summary>
    public const int QK_K = 256;

    /// <summary>Bytes of packed 6-bit scales and mins in Q4_K/Q5_K (and of the 6-bit scales in Q3_K).</summary>
    public const int K_SCALE_SIZE = 12;

    private const int Half = 2;

    // block_q4_0 { ggml_half d; uint8_t qs[QK4_0/2]; }
    public const int QK4_0 = 32;
    public const int Q4_0_D = 0;
    public const int Q4_0_Qs = Q4_0_D + Half;
    public const int Q4_0Bytes = Q4_0_Qs + QK4_0 / 2;

    // block_q4_1 { ggml_half d; ggml_half m; uint8_t qs[QK4_1/2]; }
    public const int QK4_1 = 32;
    public const int Q4_1_D = 0;
    public const int Q4_1_M = Q4_1_D + Half;
    public const int Q4_1_Qs = Q4_1_M + Half;
    public const int Q4_1Bytes = Q4_1_Qs + QK4_1 / 2;

    // block_q5_0 { ggml_half d; uint8_t qh[4]; uint8_t qs[QK5_0/2]; }
    public const int QK5_0 = 32;
    public const int Q5_0_D = 0;
    public const int Q5_0_Qh = Q5_0_D + Half;
    public const int Q5_0_Qs = Q5_0_Qh + 4;
    public const int Q5_0Bytes = Q5_0_Qs + QK5_0 / 2;

    // block_q5_1 { ggml_half d; ggml_half m; uint8_t qh[4]; uint8_t qs[QK5_1/2]; }
    public const int QK5_1 = 32;
    public const int Q5_1_D = 0;
    public const int Q5_1_M = Q5_1_D + Half;
    public const int Q5_1_Qh = Q5_1_M + Half;
    public const int Q5_1_Qs = Q5_1_Qh + 4;
    public const int Q5_1Bytes = Q5_1_Qs + QK5_1 / 2;

    // block_q8_0 { ggml_half d; int8_t qs[QK8_0]; }
    public const int QK8_0 = 32;
    public const int Q8_0_D = 0;
    public const int Q8_0_Qs = Q8_0_D + Half;
    public const int Q8_0Bytes = Q8_0_Qs + QK8_0;

    // block_q2_K { uint8_t scales[QK_K/16]; uint8_t qs[QK_K/4]; ggml_half d; ggml_half dmin; }
    public const int Q2_K_Scales = 0;
    public const int Q2_K_Qs = Q2_K_Scales + QK_K / 16;
    public const int Q2_K_D = Q2_K_Qs + QK_K / 4;
    public const int Q2_K_DMin = Q2_K_D + Half;
    public const int Q2_KBytes = Q2_K_DMin + Half;

    // block_q3_K { uint8_t hmask[QK_K/8]; uint8_t qs[QK_K/4]; uint8_t scales[12]; ggml_half d; }
    public const int Q3_K_HMask = 0;
    public const int Q3_K_Qs = Q3_K_HMask + QK_K / 8;
    public const int Q3_K_Scales = Q3_K_Qs + QK_K / 4;
    public const int Q3_K_D = Q3_K_Scales + K_SCALE_SIZE;
    public const int Q3_KBytes = Q3_K_D + Half;

    // block_q4_K { ggml_half d; ggml_half dmin; uint8_t scales[K_SCALE_SIZE]; uint8_t qs[QK_K/2]; }
    public const int Q4_K_D = 0;
    public const int Q4_K_DMin = Q4_K_D + Half;
    public const int Q4_K_Scales = Q4_K_DMin + Half;
    public const int Q4_K_Qs = Q4_K_Scales + K_SCALE_SIZE;
    public const int Q4_KBytes = Q4_K_Qs + QK_K / 2;

    // block_q5_K { ggml_half d; ggml_half dmin; uint8_t scales[K_SCALE_SIZE]; uint8_t qh[QK_K/8]; uint8_t qs[QK_K/2]; }
    public const int Q5_K_D = 0;
    public const int Q5_K_DMin = Q5_K_D + Half;
    public const int Q5_K_Scales = Q5_K_DMin + Half;
    public const int Q5_K_Qh = Q5_K_Scales + K_SCALE_SIZE;
    public const int Q5_K_Qs = Q5_K_Qh + QK_K / 8;
    public const int Q5_KBytes = Q5_K_Qs + QK_K / 2;

    // block_q6_K { uint8_t ql[QK_K/2]; uint8_t qh[QK_K/4]; int8_t scales[QK_K/16]; ggml_half d; }
    public const int Q6_K_Ql = 0;
    public const int Q6_K_Qh = Q6_K_Ql + QK_K / 2;
    public const int Q6_K_Scales = Q6_K_Qh + QK_K / 4;
    public const int Q6_K_D = Q6_K_Scales + QK_K / 16;
    public const int Q6_KBytes = Q6_K_D + Half;

    // block_q8_K { float d; int8_t qs[QK_K]; int16_t bsums[QK_K/16]; }
    public const int Q8_K_D = 0;
    public const int Q8_K_Qs = Q8_K_D + 4;
    public const int Q8_K_BSums = Q8_K_Qs + QK_K;
    public const int Q8_KBytes = Q8_K_BSums + QK_K / 16 * 2;
}
