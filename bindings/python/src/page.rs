//! One page of a listing, with the cursor of the next.

use invite_core::service::Page;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyType};

use crate::convert::record_dict;

/// One page of results: `items`, and `next_cursor` to pass as `cursor` for the next
/// page (`None` on the last). Iterable; `len()` is the number of items.
#[pyclass(name = "Page", module = "invite_core._native", frozen)]
pub struct PyPage {
    items: Vec<Py<PyAny>>,
    next_cursor: Option<String>,
}

impl PyPage {
    /// Wraps a core page, each item as its Python record class `P`.
    pub(crate) fn new<P, C>(py: Python<'_>, page: Page<C>) -> PyResult<Self>
    where
        P: From<C> + pyo3::PyClass + Into<PyClassInitializer<P>>,
    {
        let items = page
            .items
            .into_iter()
            .map(|item| Ok(Py::new(py, P::from(item))?.into_any()))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(PyPage {
            items,
            next_cursor: page.next_cursor,
        })
    }
}

#[pymethods]
impl PyPage {
    /// The items of this page.
    #[getter]
    fn items<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, self.items.iter().map(|i| i.bind(py)))
    }

    /// Pass as `cursor` to read the next page; `None` on the last page.
    #[getter]
    fn next_cursor(&self) -> Option<String> {
        self.next_cursor.clone()
    }

    fn __len__(&self) -> usize {
        self.items.len()
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.items(py)?.try_iter().map(Bound::into_any)
    }

    /// `Page[User]` in annotations.
    #[classmethod]
    fn __class_getitem__(cls: &Bound<'_, PyType>, _item: &Bound<'_, PyAny>) -> Py<PyType> {
        cls.clone().unbind()
    }

    /// `{"items": [...], "next_cursor": ...}` with every item as a dict.
    fn to_dict<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        record_dict(slf.as_any(), &["items", "next_cursor"])
    }

    fn __repr__(&self) -> String {
        let cursor = self
            .next_cursor
            .as_deref()
            .map_or_else(|| "None".to_owned(), |c| format!("'{c}'"));
        format!(
            "Page(items=<{} items>, next_cursor={cursor})",
            self.items.len()
        )
    }
}
