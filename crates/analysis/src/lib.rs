//! Statistics and verdicts: sequential tests, Welch, Mann-Whitney, SRM. Pure, no IO.
