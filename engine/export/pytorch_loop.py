"""The training loop of an exported PyTorch script (engine/export/pytorch_code.py puts it last in the script).

Plain Python text, copied into the script as it is; the recipe's functions (make_optimizer, learning_rate,
loss_function, outputs_of, figure: engine/export/pytorch_training.py) and the SETTINGS (TARGET, FIGURE,
INPUT_NOISE...) say what it trains for: class labels, with accuracy as the figure, or values (a regression's
targets, or the input itself for an autoencoder), with the mean squared error of what the network shows.
"""

from __future__ import annotations

LOOP = '''\
def start_processes(force_cpu):
    """(rank, world size, device). Started by torchrun (RANK, WORLD_SIZE and LOCAL_RANK set), join the
    others: NCCL on GPUs, gloo on CPUs; else one process on the first GPU, or the CPU."""
    use_cuda = torch.cuda.is_available() and not force_cpu
    if not all(name in os.environ for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK")):
        return 0, 1, torch.device("cuda" if use_cuda else "cpu")
    device = torch.device("cpu")
    if use_cuda:
        device = torch.device("cuda", int(os.environ["LOCAL_RANK"]))
        torch.cuda.set_device(device)
    dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    return dist.get_rank(), dist.get_world_size(), device


def batches(images, labels, batch_size, sampler):
    """The epoch's mini-batches, in the sampler's order."""
    order = torch.tensor(list(sampler), dtype=torch.int64)
    for start in range(0, len(order), batch_size):
        index = order[start:start + batch_size]
        yield images[index], labels[index]


def targets_for(images, labels):
    """What the loss compares the outputs with: the clean images themselves for an autoencoder (TARGET
    "input"), else the labels (class labels, or a regression's float targets)."""
    return images if TARGET == "input" else labels


def with_noise(images):
    """The training inputs with Gaussian noise of standard deviation INPUT_NOISE added (a denoising
    autoencoder's), images clipped back to [0, 1]; the targets stay the clean examples."""
    if not INPUT_NOISE:
        return images
    noisy = images + INPUT_NOISE * torch.randn_like(images)
    return noisy.clamp(0.0, 1.0) if noisy.dim() == 4 else noisy


def noisy_validation_inputs(images, seed):
    """What a denoising autoencoder reads at validation, as LayerLab validates it: the validation images with
    noise as in training, drawn once from the seed (every epoch compares like with like); the targets stay the
    clean images. None for any other network (it reads the images as they are). Validated on clean images, its
    validation loss would rise while the training loss fell: it learns the noisy images' statistics."""
    if not INPUT_NOISE or TARGET != "input":
        return None
    noise = torch.randn(images.shape, generator=torch.Generator().manual_seed(seed), dtype=images.dtype)
    noisy = images + INPUT_NOISE * noise
    return noisy.clamp(0.0, 1.0) if noisy.dim() == 4 else noisy


@torch.no_grad()
def evaluate(model, images, labels, device, batch_size=500, inputs=None):
    """(mean loss, mean FIGURE: accuracy, or the mean squared error) in inference mode. ``inputs``: what the
    model reads in place of the images (a denoising autoencoder's noisy copies); the targets stay the images."""
    model.eval()
    inputs = images if inputs is None else inputs
    total_loss, total_figure = 0.0, 0.0
    for start in range(0, len(labels), batch_size):
        x, y = images[start:start + batch_size].to(device), labels[start:start + batch_size].to(device)
        targets = targets_for(x, y)
        scores = model(inputs[start:start + batch_size].to(device), return_logits=True)
        total_loss += float(loss_function(scores, targets)) * len(y)
        total_figure += float(figure(scores, targets)) * len(y)
    return total_loss / len(labels), total_figure / len(labels)


def report(args, text, **values):
    """One line: words, or with --json one JSON object."""
    print(json.dumps(values) if args.json else text, flush=True)


def save_weights(model, path):
    """The weights as .safetensors, written whole or not at all (a temporary file, then a rename)."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    save_file({name: value.detach().cpu().contiguous() for name, value in model.state_dict().items()},
              str(temporary))
    os.replace(temporary, path)


def train(args, rank, world_size, device):
    splits = load_splits(args.data)
    torch.manual_seed(args.seed)  # the same initial weights in every process
    model = MODEL_CLASS().to(device)
    if args.weights:
        model.load_state_dict(load_file(args.weights, device=str(device)))
    trained = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None) \\
        if world_size > 1 else model
    torch.manual_seed(args.seed + rank)  # each process its own dropout masks
    optimizer = make_optimizer(model)
    train_x, train_y = splits["train"]
    # The batch is shared out among the processes, so it, and the learning rate with it, mean what they did
    # on one machine (DDP averages the gradients of the processes).
    batch_size = max(1, math.ceil(args.batch_size / world_size))
    if world_size > 1:
        sampler = DistributedSampler(range(len(train_y)), world_size, rank, shuffle=True, seed=args.seed)
    else:
        sampler = torch.randperm(len(train_y), generator=torch.Generator().manual_seed(args.seed)).tolist()
    val_x, val_y = splits["validation"]
    val_inputs = noisy_validation_inputs(val_x, args.seed)  # None: the images as they are
    step, started = 0, time.perf_counter()
    best_score, best_state, epochs_without_improvement = None, None, 0
    for epoch in range(args.epochs):
        if world_size > 1:
            sampler.set_epoch(epoch)
        elif epoch:
            sampler = torch.randperm(len(train_y), generator=torch.Generator().manual_seed(args.seed + epoch)).tolist()
        trained.train()
        for images, labels in batches(train_x, train_y, batch_size, sampler):
            if args.steps is not None and step >= args.steps:
                break
            images, labels = images.to(device, non_blocking=True), labels.to(device, non_blocking=True)
            targets = targets_for(images, labels)  # the clean images, for an autoencoder
            rate = learning_rate(step)
            for group in optimizer.param_groups:
                group["lr"] = rate
            scores = trained(with_noise(images), return_logits=True)
            loss = loss_function(scores, targets)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            clip_gradients(model)
            optimizer.step()
            step += 1
            if step == 1 or step % args.log_every == 0:
                values = torch.stack([loss.detach(), figure(scores.detach(), targets)])
                if world_size > 1:  # the mean over the processes: the whole batch's
                    dist.all_reduce(values)
                    values /= world_size
                if rank == 0:
                    loss_value, figure_value = values.tolist()
                    report(args, f"epoch {epoch + 1} step {step}: loss {loss_value:.4f}, {FIGURE_WORDS} "
                                 f"{figure_value:.4f}, learning rate {rate:.6g}", step=step, epoch=epoch + 1,
                           loss=loss_value, **{FIGURE: figure_value}, learning_rate=rate)
        if len(val_y):
            val_loss, val_figure = evaluate(model, val_x, val_y, device, inputs=val_inputs)
            if rank == 0:
                report(args, f"epoch {epoch + 1}: validation loss {val_loss:.4f}, {FIGURE_WORDS} {val_figure:.4f}",
                       epoch=epoch + 1, validation_loss=val_loss, **{f"validation_{FIGURE}": val_figure})
            if EARLY_STOPPING_PATIENCE is not None:  # every process sees the same weights, so decides alike
                # the best epoch: the highest validation accuracy for a classifier, else the lowest loss
                score = val_figure if FIGURE == "accuracy" else -val_loss
                if best_score is None or score > best_score:
                    best_score, epochs_without_improvement = score, 0
                    best_state = {name: value.detach().clone() for name, value in model.state_dict().items()}
                else:
                    epochs_without_improvement += 1
                if epochs_without_improvement >= EARLY_STOPPING_PATIENCE:
                    model.load_state_dict(best_state)
                    break
        if args.steps is not None and step >= args.steps:
            break
    seconds = time.perf_counter() - started
    if rank == 0:
        test_loss, test_figure = evaluate(model, *splits["test"], device)
        report(args, f"test loss {test_loss:.4f}, {FIGURE_WORDS} {test_figure:.4f} after {step} steps, "
                     f"{seconds:.1f} s", steps=step, test_loss=test_loss, **{f"test_{FIGURE}": test_figure},
               seconds=seconds)
    if args.save_every_rank:
        save_weights(model, Path(args.save).with_suffix(f".rank{rank}.safetensors"))
    if rank == 0 and args.save:
        save_weights(model, args.save)
        report(args, f"saved the trained weights in {args.save}", saved=str(args.save))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\\n\\n")[0])
    parser.add_argument("--data", default=DATA_FOLDER, help=f"the data set's folder (default: {DATA_FOLDER})")
    parser.add_argument("--epochs", type=int, default=EPOCHS, help=f"default {EPOCHS}; 0 only evaluates")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE,
                        help=f"examples per step, shared out among the processes (default {BATCH_SIZE})")
    parser.add_argument("--steps", type=int, default=MAX_STEPS, help="stop after this many steps")
    parser.add_argument("--seed", type=int, default=SEED, help=f"default {SEED}")
    parser.add_argument("--weights", help="start from these weights (.safetensors) instead of from scratch")
    parser.add_argument("--save", default=str(Path(__file__).with_name(TRAINED_WEIGHTS)),
                        help="where the trained weights go (default: %(default)s)")
    parser.add_argument("--save-every-rank", action="store_true",
                        help="every process also saves its own weights, as SAVE.rankN.safetensors")
    parser.add_argument("--log-every", type=int, default=100, help="report every this many steps")
    parser.add_argument("--json", action="store_true", help="report as one JSON object per line")
    parser.add_argument("--cpu", action="store_true", help="train on the CPU even where there is a GPU")
    args = parser.parse_args()
    rank, world_size, device = start_processes(args.cpu)
    try:
        train(args, rank, world_size, device)
    finally:
        if world_size > 1:
            dist.destroy_process_group()


if __name__ == "__main__":
    main()
'''
