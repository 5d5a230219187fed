//! The hot result objects (invitations, send and accept results, users, memberships,
//! emails for a JS mailer, their contexts for a JS renderer), built by small JavaScript
//! factory functions.
//!
//! napi-rs's derived conversion creates an empty object and defines each property
//! through `napi_define_properties`: every property is a slow-path define on an object
//! that starts without room for its fields (a map transition, then a move to out-of-object
//! storage), which cost ~3 µs for a send result, more than every value in it. (Naming the
//! properties is a small part: interning a short name is cheap, and cached keys could not
//! be kept on Node 20 anyway, whose references hold no strings before Node-API 10.) A
//! factory such as `function (a0, a1) { return { "id": a0, "email": a1 } }`, compiled
//! once per env and called with the values, builds the same plain object from a literal:
//! same properties in the same order, all writable, enumerable and configurable, same
//! prototype, same values (the values are converted in Rust exactly as before: `Date`
//! objects through `napi_create_date`, `null` for `None`, strings, numbers, booleans).
//!
//! The factories of an env are compiled on first use (`napi_run_script`, which
//! `--disallow-code-generation-from-strings` does not restrict) and kept in strong
//! references in the env's instance data, released when the env is torn down. The
//! property lists live next to their structs (`INVITATION` in `model`, …). Each struct
//! implements [`Shaped`], whose `push` destructures it completely (a new field does not
//! compile until it is pushed), and gets its `ToNapiValue` from [`to_napi_by_shape`];
//! `build` rejects a value count that does not match the list, and
//! `__test__/shapes.test.mjs` checks the objects against `index.d.ts`.

use std::ffi::c_void;
use std::ptr;

use napi::bindgen_prelude::{Null, ToNapiValue, Unknown};
use napi::{Error, Result, Status, sys};

use crate::dispatch::INVITATION_EMAIL;
use crate::invitee::ACCEPTED;
use crate::lifecycle::SENT_INVITATION;
use crate::model::{INVITATION, MEMBERSHIP, USER};
use crate::render::EMAIL_CONTEXT;

/// A result struct built by the factory of its [`Shape`].
pub trait Shaped {
    /// The object this struct becomes.
    const SHAPE: Shape;
    /// Pushes the struct's values in the order of its shape's properties (a nested
    /// object's values where the nested object stands).
    fn push(self, args: &mut Args) -> Result<()>;
}

/// Implements napi's `ToNapiValue` for [`Shaped`] structs: each becomes the object its
/// factory builds. (A blanket impl of napi's trait is not allowed outside napi.)
macro_rules! to_napi_by_shape {
    ($($shaped:ty),+ $(,)?) => {$(
        #[allow(unsafe_code, reason = "`ToNapiValue` is an unsafe trait method")]
        impl napi::bindgen_prelude::ToNapiValue for $shaped {
            unsafe fn to_napi_value(
                env: napi::sys::napi_env,
                val: Self,
            ) -> napi::Result<napi::sys::napi_value> {
                // SAFETY: napi-rs calls this with the live env of the JS thread.
                unsafe {
                    $crate::shape::build(env, <$shaped as $crate::shape::Shaped>::SHAPE, |args| {
                        $crate::shape::Shaped::push(val, args)
                    })
                }
            }
        }
    )+};
}
pub(crate) use to_napi_by_shape;

/// One property of a result object, spelled as JS sees it (camelCase).
#[derive(Debug, Clone, Copy)]
pub enum Prop {
    /// A value: one argument of the factory.
    Value(&'static str),
    /// A nested plain object with these properties.
    Object(&'static str, &'static [Prop]),
}

/// The objects built by a factory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `Invitation` (with its `invitee` and `delivery`).
    Invitation,
    /// `SentInvitation`: send and resend results.
    SentInvitation,
    /// `Accepted`: accept results.
    Accepted,
    /// `User`.
    User,
    /// `Membership`.
    Membership,
    /// `InvitationEmail`, handed to a JS mailer.
    InvitationEmail,
    /// `EmailContext`, handed to a JS renderer.
    EmailContext,
}

impl Shape {
    /// Every shape, in factory order.
    const ALL: [Shape; 7] = [
        Shape::Invitation,
        Shape::SentInvitation,
        Shape::Accepted,
        Shape::User,
        Shape::Membership,
        Shape::InvitationEmail,
        Shape::EmailContext,
    ];

    /// Its properties, in declaration (and `index.d.ts`) order.
    const fn props(self) -> &'static [Prop] {
        match self {
            Shape::Invitation => INVITATION,
            Shape::SentInvitation => SENT_INVITATION,
            Shape::Accepted => ACCEPTED,
            Shape::User => USER,
            Shape::Membership => MEMBERSHIP,
            Shape::InvitationEmail => INVITATION_EMAIL,
            Shape::EmailContext => EMAIL_CONTEXT,
        }
    }

    /// Index of its factory in the compiled list.
    const fn index(self) -> usize {
        self as usize
    }

    /// Properties `util.inspect` (and so `console.log`) shows as `'<redacted>'`: those
    /// that carry a raw token (SECURITY.md T1: never in logs). Reading them, spreading
    /// the object and `JSON.stringify` are unchanged.
    const fn redacted(self) -> &'static [&'static str] {
        match self {
            Shape::SentInvitation => &["token", "acceptLink"],
            Shape::InvitationEmail => &["text", "html", "acceptLink"],
            Shape::EmailContext => &["acceptLink"],
            Shape::Invitation | Shape::Accepted | Shape::User | Shape::Membership => &[],
        }
    }
}

/// Index of the promise-reaction helper (`attach`), after the factories.
const ATTACH: usize = Shape::ALL.len();

/// Factories plus the helper.
const FUNCTIONS: usize = ATTACH + 1;

/// Values of an object with `props` (nested objects count their own values).
const fn arity(props: &[Prop]) -> usize {
    let mut count = 0;
    let mut i = 0;
    while i < props.len() {
        count += match props[i] {
            Prop::Value(_) => 1,
            Prop::Object(_, inner) => arity(inner),
        };
        i += 1;
    }
    count
}

/// Most values any factory takes.
const MAX_VALUES: usize = 48;

const _: () = {
    let mut i = 0;
    while i < Shape::ALL.len() {
        assert!(arity(Shape::ALL[i].props()) <= MAX_VALUES);
        i += 1;
    }
};

/// The JavaScript helper that attaches a dispatch's reactions to what a mailer returned
/// (an object or a function), awaited as `await` would: a native promise as is, a
/// thenable adopted (its `then` called once, later), anything else fulfilled.
/// `settled(index)` when it fulfils, `failed(index, reason, false)` when it rejects
/// (a thenable's `then` or getter that throws rejects too), `failed(index, error, true)`
/// when a native promise's own `then` throws. The reactions never throw (so their derived
/// promise never rejects unhandled).
const ATTACH_SOURCE: &str = "function (promise, index, settled, failed) {\n\
    try {\n\
      Promise.resolve(promise).then(\n\
        function () { try { settled(index) } catch (_) {} },\n\
        function (reason) { try { failed(index, reason, false) } catch (_) {} })\n\
    } catch (error) {\n\
      try { failed(index, error, true) } catch (_) {}\n\
    }\n\
  }";

/// Appends the object literal of `props` to `out`, its values read from the arguments
/// `a{next}`, `a{next + 1}`, … in order.
fn literal(props: &[Prop], next: &mut usize, out: &mut String) {
    out.push('{');
    for (i, prop) in props.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let (Prop::Value(name) | Prop::Object(name, _)) = *prop;
        out.push('"');
        out.push_str(name);
        out.push_str("\": ");
        match *prop {
            Prop::Value(_) => {
                out.push('a');
                out.push_str(&next.to_string());
                *next += 1;
            }
            Prop::Object(_, inner) => literal(inner, next, out),
        }
    }
    out.push('}');
}

/// The factory of `props`: `function (a0, …, aN) { return {…} }`; with `inspect`, the
/// object also gets that `util.inspect.custom` method (a symbol key: not in
/// `Object.keys`, `JSON.stringify` or `for … in`).
fn factory_source(props: &[Prop], inspect: Option<&str>) -> String {
    let params: Vec<String> = (0..arity(props)).map(|i| format!("a{i}")).collect();
    let mut body = String::new();
    literal(props, &mut 0, &mut body);
    if let Some(inspect) = inspect {
        body.pop();
        body.push_str(&format!(", [INSPECT]: {inspect}}}"));
    }
    format!("function ({}) {{ return {body} }}", params.join(", "))
}

/// A `util.inspect.custom` method that shows a copy with `fields` redacted.
const REDACTING_SOURCE: &str = "function redacting(fields) {\n\
    return function (depth, options, inspect) {\n\
      const shown = { ...this };\n\
      delete shown[INSPECT];\n\
      for (const field of fields) shown[field] = '<redacted>';\n\
      return inspect(shown, options);\n\
    };\n\
  }";

/// The script compiled once per env: an array of the factories (in `Shape::ALL` order)
/// and the `attach` helper, with the redacting inspect methods they share.
fn script() -> String {
    let mut shared = Vec::new();
    let mut functions = Vec::new();
    for shape in Shape::ALL {
        let fields = shape.redacted();
        let inspect = (!fields.is_empty()).then(|| {
            let name = format!("redact{}", shape.index());
            let list: Vec<String> = fields.iter().map(|f| format!("'{f}'")).collect();
            shared.push(format!("const {name} = redacting([{}]);", list.join(", ")));
            name
        });
        functions.push(factory_source(shape.props(), inspect.as_deref()));
    }
    functions.push(ATTACH_SOURCE.to_owned());
    format!(
        "(() => {{\nconst INSPECT = Symbol.for('nodejs.util.inspect.custom');\n{REDACTING_SOURCE}\n{}\nreturn [\n{}\n];\n}})()",
        shared.join("\n"),
        functions.join(",\n")
    )
}

/// The values of one object, converted in order; only `build` makes one.
pub struct Args {
    env: sys::napi_env,
    values: [sys::napi_value; MAX_VALUES],
    len: usize,
}

impl Args {
    fn push_raw(&mut self, value: sys::napi_value) -> Result<()> {
        let slot = self
            .values
            .get_mut(self.len)
            .ok_or_else(|| Error::new(Status::GenericFailure, "too many values for a result"))?;
        *slot = value;
        self.len += 1;
        Ok(())
    }

    /// A value, converted as the derived conversion converts it.
    #[allow(unsafe_code, reason = "`ToNapiValue::to_napi_value` is unsafe")]
    pub fn value<T: ToNapiValue>(&mut self, value: T) -> Result<()> {
        // SAFETY: `self.env` is the live env `build` was called with: an `Args` exists
        // only inside `build`, on the JS thread.
        let value = unsafe { T::to_napi_value(self.env, value) }?;
        self.push_raw(value)
    }

    /// `value`, or `null` for `None` (the `use_nullable = true` convention).
    pub fn nullable<T: ToNapiValue>(&mut self, value: Option<T>) -> Result<()> {
        match value {
            Some(value) => self.value(value),
            None => self.value(Null),
        }
    }

    /// A string (the same JS string as `String`'s conversion; ASCII text is copied
    /// without UTF-8 decoding).
    #[allow(unsafe_code, reason = "raw string creation")]
    pub fn string(&mut self, text: &str) -> Result<()> {
        let len = isize::try_from(text.len())
            .map_err(|_| Error::new(Status::InvalidArg, "a string is too long"))?;
        let mut value = ptr::null_mut();
        // SAFETY: live env (see `value`); `text` is valid for `len` bytes; ASCII is the
        // same text read as Latin-1 or as UTF-8.
        let status = unsafe {
            if text.is_ascii() {
                sys::napi_create_string_latin1(self.env, text.as_ptr().cast(), len, &mut value)
            } else {
                sys::napi_create_string_utf8(self.env, text.as_ptr().cast(), len, &mut value)
            }
        };
        check(status, "cannot create a string")?;
        self.push_raw(value)
    }

    /// `string`, or `null` for `None`.
    pub fn nullable_string(&mut self, text: Option<&str>) -> Result<()> {
        match text {
            Some(text) => self.string(text),
            None => self.value(Null),
        }
    }
}

fn check(status: sys::napi_status, what: &str) -> Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(Error::new(Status::from(status), what.to_owned()))
    }
}

/// Builds the object of `shape` from the values `fill` pushes, in property order.
///
/// # Safety
/// `env` is the live env of the calling (JS) thread.
#[allow(unsafe_code, reason = "raw napi calls")]
pub unsafe fn build(
    env: sys::napi_env,
    shape: Shape,
    fill: impl FnOnce(&mut Args) -> Result<()>,
) -> Result<sys::napi_value> {
    let mut args = Args {
        env,
        values: [ptr::null_mut(); MAX_VALUES],
        len: 0,
    };
    fill(&mut args)?;
    if args.len != arity(shape.props()) {
        return Err(Error::new(
            Status::GenericFailure,
            format!(
                "{shape:?}: {} values for {} properties",
                args.len,
                arity(shape.props())
            ),
        ));
    }
    let values = args.values.get(..args.len).unwrap_or_default();
    // SAFETY: as the caller promised.
    unsafe { call(env, shape.index(), values) }
}

/// Attaches a dispatch's reactions to `promise` (see `ATTACH_SOURCE`).
///
/// # Safety
/// `env` is the live env of the calling (JS) thread; the values belong to it.
#[allow(unsafe_code, reason = "raw napi calls")]
pub unsafe fn attach(
    env: sys::napi_env,
    promise: sys::napi_value,
    index: u32,
    settled: sys::napi_value,
    failed: sys::napi_value,
) -> Result<()> {
    let mut index_value = ptr::null_mut();
    // SAFETY: as the caller promised.
    check(
        unsafe { sys::napi_create_uint32(env, index, &mut index_value) },
        "cannot create a number",
    )?;
    // SAFETY: as the caller promised.
    unsafe { call(env, ATTACH, &[promise, index_value, settled, failed]) }.map(|_| ())
}

/// Calls function `index` of this env's list with `values`.
///
/// # Safety
/// `env` is the live env of the calling (JS) thread; the values belong to it.
#[allow(unsafe_code, reason = "raw napi calls")]
unsafe fn call(
    env: sys::napi_env,
    index: usize,
    values: &[sys::napi_value],
) -> Result<sys::napi_value> {
    // SAFETY: as the caller promised.
    let function = unsafe { function(env, index) }?;
    let mut this = ptr::null_mut();
    let mut result = ptr::null_mut();
    // SAFETY: live env; `function` and `values` are values of it; valid out-pointers.
    let status = unsafe {
        check(
            sys::napi_get_undefined(env, &mut this),
            "cannot read undefined",
        )?;
        sys::napi_call_function(
            env,
            this,
            function,
            values.len(),
            values.as_ptr(),
            &mut result,
        )
    };
    if status == sys::Status::napi_pending_exception {
        // Only possible when the engine itself throws (out of stack or memory): hand the
        // exception back as the error instead of leaving it pending.
        let mut exception = ptr::null_mut();
        // SAFETY: an exception is pending in this env; taking it clears it.
        let taken = unsafe { sys::napi_get_and_clear_last_exception(env, &mut exception) };
        if taken == sys::Status::napi_ok && !exception.is_null() {
            // SAFETY: `exception` is a live value of this env.
            let value = unsafe { Unknown::from_raw_unchecked(env, exception) };
            return Err(Error::from_unknown_without_coercion(value));
        }
    }
    check(status, "cannot build a result object")?;
    Ok(result)
}

/// The env's functions, compiled on first use.
struct Functions {
    refs: [sys::napi_ref; FUNCTIONS],
}

/// Function `index` of this env's list (compiled and stored on the first call).
///
/// # Safety
/// `env` is the live env of the calling (JS) thread.
#[allow(unsafe_code, reason = "raw napi calls on the env's instance data")]
unsafe fn function(env: sys::napi_env, index: usize) -> Result<sys::napi_value> {
    let mut data = ptr::null_mut();
    // SAFETY: live env, valid out-pointer.
    check(
        unsafe { sys::napi_get_instance_data(env, &mut data) },
        "cannot read the instance data",
    )?;
    let functions = if data.is_null() {
        // SAFETY: as the caller promised.
        unsafe { install(env) }?
    } else {
        // This crate is the only one to set this module's instance data (napi-rs leaves
        // the slot to the addon), and only ever to a `Functions`.
        data.cast::<Functions>()
    };
    // SAFETY: `functions` is the instance data set by `install` for this env, freed only
    // by `release` when the env is torn down (after the last call on its thread).
    let reference = unsafe { (*functions).refs.get(index).copied() }
        .ok_or_else(|| Error::new(Status::InvalidArg, "no such factory"))?;
    let mut value = ptr::null_mut();
    // SAFETY: `reference` is a strong reference of this env.
    check(
        unsafe { sys::napi_get_reference_value(env, reference, &mut value) },
        "cannot read a factory",
    )?;
    if value.is_null() {
        return Err(Error::new(Status::GenericFailure, "a factory is gone"));
    }
    Ok(value)
}

/// Compiles the functions of this env and stores them as its instance data.
///
/// # Safety
/// `env` is the live env of the calling (JS) thread, without instance data yet.
#[allow(unsafe_code, reason = "raw napi calls on the env's instance data")]
unsafe fn install(env: sys::napi_env) -> Result<*mut Functions> {
    let source = script();
    let len = isize::try_from(source.len())
        .map_err(|_| Error::new(Status::InvalidArg, "the factories are too long"))?;
    let mut code = ptr::null_mut();
    let mut list = ptr::null_mut();
    // SAFETY: live env; `source` is valid for `len` bytes; valid out-pointers.
    unsafe {
        check(
            sys::napi_create_string_utf8(env, source.as_ptr().cast(), len, &mut code),
            "cannot create the factories' source",
        )?;
        check(
            sys::napi_run_script(env, code, &mut list),
            "cannot compile the factories",
        )?;
    }
    let mut refs = [ptr::null_mut(); FUNCTIONS];
    for (index, slot) in refs.iter_mut().enumerate() {
        let index = u32::try_from(index).unwrap_or(u32::MAX);
        let mut function = ptr::null_mut();
        // SAFETY: live env; `list` is the script's array; valid out-pointers.
        let status = unsafe {
            match sys::napi_get_element(env, list, index, &mut function) {
                sys::Status::napi_ok => sys::napi_create_reference(env, function, 1, slot),
                status => status,
            }
        };
        if let Err(error) = check(status, "cannot keep a factory") {
            // SAFETY: the references made so far are this env's.
            unsafe { delete(env, &refs) };
            return Err(error);
        }
    }
    let functions = Box::into_raw(Box::new(Functions { refs }));
    // SAFETY: live env; `functions` is ours until `release` takes it back.
    let status = unsafe {
        sys::napi_set_instance_data(env, functions.cast(), Some(release), ptr::null_mut())
    };
    if let Err(error) = check(status, "cannot keep the factories") {
        // SAFETY: not handed over: still ours, and its references are this env's.
        let functions = unsafe { Box::from_raw(functions) };
        // SAFETY: as above.
        unsafe { delete(env, &functions.refs) };
        return Err(error);
    }
    Ok(functions)
}

/// Deletes the (non-null) references in `refs`.
///
/// # Safety
/// `env` is live; the references are its own and not deleted yet.
#[allow(unsafe_code, reason = "raw napi calls")]
unsafe fn delete(env: sys::napi_env, refs: &[sys::napi_ref]) {
    for &reference in refs {
        if !reference.is_null() {
            // SAFETY: as the caller promised.
            let _ = unsafe { sys::napi_delete_reference(env, reference) };
        }
    }
}

/// The instance data's finalizer, run once when the env is torn down (before Node
/// releases plain references, so deleting ours here is allowed).
#[allow(unsafe_code, reason = "napi finalizer")]
unsafe extern "C" fn release(env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    if data.is_null() {
        return;
    }
    // SAFETY: `data` is the `Functions` box `install` handed to this env; the finalizer
    // runs once.
    let functions = unsafe { Box::from_raw(data.cast::<Functions>()) };
    // SAFETY: its references are this env's.
    unsafe { delete(env, &functions.refs) };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(props: &[Prop], out: &mut Vec<&'static str>) {
        for prop in props {
            match *prop {
                Prop::Value(name) => out.push(name),
                Prop::Object(name, inner) => {
                    out.push(name);
                    names(inner, out);
                }
            }
        }
    }

    #[test]
    fn names_are_plain_identifiers() {
        for shape in Shape::ALL {
            let mut all = Vec::new();
            names(shape.props(), &mut all);
            for name in all {
                assert!(
                    name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                        && name.chars().all(|c| c.is_ascii_alphanumeric()),
                    "{shape:?}: {name}"
                );
                assert_ne!(name, "__proto__");
            }
        }
    }

    #[test]
    fn indexes_follow_the_list() {
        for (i, shape) in Shape::ALL.iter().enumerate() {
            assert_eq!(shape.index(), i);
        }
    }

    #[test]
    fn a_factory_reads_its_arguments_in_order() {
        const INNER: &[Prop] = &[Prop::Value("kind"), Prop::Value("userId")];
        const OUTER: &[Prop] = &[
            Prop::Value("id"),
            Prop::Object("invitee", INNER),
            Prop::Value("email"),
        ];
        assert_eq!(arity(OUTER), 4);
        assert_eq!(
            factory_source(OUTER, None),
            "function (a0, a1, a2, a3) { return {\"id\": a0, \"invitee\": {\"kind\": a1, \"userId\": a2}, \"email\": a3} }"
        );
        assert_eq!(
            factory_source(OUTER, Some("redact9")),
            "function (a0, a1, a2, a3) { return {\"id\": a0, \"invitee\": {\"kind\": a1, \"userId\": a2}, \"email\": a3, [INSPECT]: redact9} }"
        );
        let script = script();
        assert!(script.starts_with("(() => {") && script.ends_with("})()"));
        assert!(script.contains("const redact1 = redacting(['token', 'acceptLink']);"));
    }
}
