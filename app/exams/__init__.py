"""Question bank, GIFT/XLSX import, exams, attempts, grading and item statistics."""
