import tinygrad_edu.functional as F


def softmax(x, dim=-1):
    e = (x - x.max(dim, keepdim=True).detach()).exp()
    return e / e.sum(dim, keepdim=True)


def log_softmax(x, dim=-1):
    return softmax(x, dim).log()         # log 0 = −inf for a logit far below the largest


def cross_entropy(logits, targets):
    picked = (log_softmax(logits, dim=1) * F.one_hot(targets, logits.shape[1])).sum(1)
    return -picked.mean()
