"""Progress lines of a certification: images done / total, seconds per
image and the ETA, on a fake clock."""
from kdiga_mmrazor.evaluation.certification import (
    CertificationProgress,
    format_eta,
)


class Clock:

    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_format_eta():
    assert format_eta(3723.4) == '1:02:03'
    assert format_eta(-5) == '0:00:00'
    assert format_eta(90000) == '1 day, 1:00:00'


def test_a_line_every_interval_images_and_after_the_last(mmengine_log):
    clock = Clock()
    progress = CertificationProgress('smooth', interval=4, clock=clock)
    progress.start(total=10)
    lines = []
    for _ in range(10):
        clock.now += 1.5  # 1.5 s per image
        lines.append(progress.update(1))
    logged = [line for line in lines if line is not None]
    assert logged == [
        'smooth: certified 4/10 images, 1.5 s/image, ETA 0:00:09',
        'smooth: certified 8/10 images, 1.5 s/image, ETA 0:00:03',
        'smooth: certified 10/10 images, 1.5 s/image, ETA 0:00:00',
    ]
    assert mmengine_log.view(contains='smooth: certified') == logged


def test_batches_that_jump_past_the_interval_log_once():
    clock = Clock()
    progress = CertificationProgress('s', interval=3, clock=clock)
    progress.start(total=None)
    clock.now += 14.0
    assert progress.update(7) == 's: certified 7 images, 2 s/image'
    clock.now += 2.0
    assert progress.update(1) is None  # next line at 9
    clock.now += 2.0
    assert progress.update(1) == 's: certified 9 images, 2 s/image'


def test_start_resets_the_count_and_the_clock():
    clock = Clock()
    progress = CertificationProgress('s', interval=1, clock=clock)
    progress.start(2)
    clock.now += 100
    progress.update(2)
    progress.start(4)
    clock.now += 3
    assert progress.update(1) == (
        's: certified 1/4 images, 3 s/image, ETA 0:00:09')
