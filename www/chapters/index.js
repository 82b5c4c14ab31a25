// The table of contents: books, their chapters, and the sections that are notebooks.
// Each section's file is a chapter-format Markdown file in this folder.

export const BOOKS = [
  {
    title: 'Deep Learning with Python',
    chapters: [
      {
        number: 8,
        title: 'Introduction to deep learning for computer vision',
        sections: [
          { id: '8.1', title: 'Introduction to convnets', file: '8.1-convnets.md' },
          { id: '8.2', title: 'Training a convnet from scratch on a small dataset', file: '8.2-small-data.md' },
        ],
      },
      {
        number: 9,
        title: 'Advanced deep learning for computer vision',
        sections: [
          { id: '9.1', title: 'Three essential computer vision tasks', file: '9.1-vision-tasks.md' },
          { id: '9.2', title: 'An image segmentation example', file: '9.2-segmentation.md' },
          { id: '9.3', title: 'Modern convnet architecture patterns', file: '9.3-architecture-patterns.md' },
          { id: '9.4', title: 'Interpreting what convnets learn', file: '9.4-interpreting.md' },
        ],
      },
    ],
  },
  {
    title: 'Hands-on Computer Vision with TensorFlow 2',
    chapters: [
      {
        number: 4,
        title: 'Influential classification tools',
        sections: [
          { id: 'hocv-4.2', label: '4.2', title: 'Understanding advanced CNN architectures', file: 'hocv-4.2-advanced-cnns.md' },
          { id: 'hocv-4.3', label: '4.3', title: 'Leveraging transfer learning', file: 'hocv-4.3-transfer-learning.md' },
        ],
      },
    ],
  },
];

export const SECTIONS = BOOKS.flatMap((book) =>
  book.chapters.flatMap((chapter) => chapter.sections.map((section) => ({ ...section, book: book.title, chapter }))),
);
