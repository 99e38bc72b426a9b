# Writes a synthetic LLaDA checkpoint with the 8B's tensor shapes (d_model 4096, mlp 12288, vocab 126464),
# random bf16 weights and N layers (default 2), in two shards: for measuring converter memory and time.
# usage: python3 docs/synthetic_checkpoint.py OUT_DIR [N_LAYERS]   (needs numpy)
import json, struct, sys, os, shutil
import numpy as np
out = sys.argv[1]; layers = int(sys.argv[2]) if len(sys.argv) > 2 else 2
os.makedirs(out, exist_ok=True)
fx = 'Tests/Fixtures/llada-tiny-tasks'   # run from the repository root
cfg = json.load(open(f'{fx}/config.json'))
cfg.update(d_model=4096, n_heads=32, n_kv_heads=32, n_layers=layers, mlp_hidden_size=12288, vocab_size=126464,
           embedding_size=126464, max_sequence_length=4096, mask_token_id=126336, eos_token_id=126081, pad_token_id=126081)
json.dump(cfg, open(f'{out}/config.json', 'w'), indent=2)
for f in ['tokenizer.json', 'tokenizer_config.json']: shutil.copy(f'{fx}/{f}', out)
d, h, v = 4096, 12288, 126464
names = [('model.transformer.wte.weight', (v, d))]
for l in range(layers):
    p = f'model.transformer.blocks.{l}.'
    names += [(p+'attn_norm.weight', (d,)), (p+'q_proj.weight', (d, d)), (p+'k_proj.weight', (d, d)), (p+'v_proj.weight', (d, d)),
              (p+'attn_out.weight', (d, d)), (p+'ff_norm.weight', (d,)), (p+'ff_proj.weight', (h, d)), (p+'up_proj.weight', (h, d)),
              (p+'ff_out.weight', (d, h))]
names += [('model.transformer.ln_f.weight', (d,)), ('model.transformer.ff_out.weight', (v, d))]
# two shards like the real checkpoint
half = len(names) // 2
rng = np.random.default_rng(0)
wmap = {}
for shard, part in enumerate([names[:half], names[half:]]):
    fname = f'model-0000{shard+1}-of-00002.safetensors'
    header = {}; off = 0
    for n, s in part:
        nb = int(np.prod(s)) * 2; header[n] = {'dtype': 'BF16', 'shape': list(s), 'data_offsets': [off, off + nb]}; off += nb; wmap[n] = fname
    hj = json.dumps(header).encode(); hj += b' ' * ((8 - len(hj) % 8) % 8)
    with open(f'{out}/{fname}', 'wb') as f:
        f.write(struct.pack('<Q', len(hj))); f.write(hj)
        for n, s in part:
            count = int(np.prod(s))
            for start in range(0, count, 1 << 26):
                k = min(1 << 26, count - start)
                x = (rng.standard_normal(k, dtype=np.float32) * (1.0 if len(s) == 1 else 0.02)).astype(np.float32)
                f.write((x.view(np.uint32) >> 16).astype(np.uint16).tobytes())
json.dump({'metadata': {}, 'weight_map': wmap}, open(f'{out}/model.safetensors.index.json', 'w'))
