//! Per-thread environment: inherited by child threads, isolated afterwards.

use sock_sched::{Executor, env, newthread, set_env, spawn, suspend};

#[derive(Clone, Debug, PartialEq)]
struct Level(u32);

#[test]
fn env_is_inherited_by_children_and_isolated() {
    let ex = Executor::new();
    let (parent_after, child_saw, child_after, grandchild_saw) = ex.run(async {
        set_env(Level(1));
        let child = newthread(async {
            let saw = env::<Level>();
            set_env(Level(2));
            let grandchild = spawn(async { env::<Level>() });
            suspend().await;
            (saw, env::<Level>(), grandchild.join().await.unwrap())
        });
        child.resume(());
        set_env(Level(3)); // after the child was created: the child keeps its own
        child.resume(());
        let (saw, after, grand) = child.join().await.unwrap();
        (env::<Level>(), saw, after, grand)
    });
    assert_eq!(parent_after, Some(Level(3)));
    assert_eq!(child_saw, Some(Level(1)));
    assert_eq!(child_after, Some(Level(2)));
    assert_eq!(grandchild_saw, Some(Level(2)));
}

#[test]
fn the_loop_root_env_is_inherited_by_threads_created_outside() {
    let ex = Executor::new();
    ex.make_current();
    set_env("root");
    let t = ex.spawn(async { env::<&str>() });
    let other = Executor::new();
    let elsewhere = other.spawn(async { env::<&str>() });
    ex.start();
    other.start();
    assert_eq!(t.try_join().unwrap().unwrap(), Some("root"));
    assert_eq!(
        elsewhere.try_join().unwrap().unwrap(),
        None,
        "another loop's root is separate"
    );
}

#[test]
fn a_thread_env_can_be_read_and_set_through_its_handle() {
    let ex = Executor::new();
    let t = ex.newthread(async { env::<u64>() });
    assert_eq!(t.env::<u64>(), None);
    t.set_env(5u64);
    assert_eq!(t.env::<u64>(), Some(5));
    t.resume(());
    assert_eq!(t.try_join().unwrap().unwrap(), Some(5));
}
