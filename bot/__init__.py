"""A bilingual knowledge-base question-answering bot about one news article on DeepSeek."""
